'use strict';

// One process serves every request, so module-level state lives between calls.
// `event` has method, path, query (object), rawQuery, headers (lower-case names), body (string)
// and rawBody (Buffer); `context` has callId (the X-Call-Id header).
// Return {statusCode, headers, body}; a body that is not a string or Buffer is sent as JSON.
// Throwing answers 500 with {"error": message}.
module.exports = async (event, context) => {
  return {
    statusCode: 200,
    body: { method: event.method, path: event.path, query: event.query, body: event.body },
  };
};
