'use strict';

// Called once per request. `body` is the request body as a string; `context` has method, path,
// query (object), rawQuery, headers (lower-case names) and rawBody (Buffer).
// Return a string or Buffer to send it as it is, or any other value to send it as JSON.
// Throw to fail the call: the error message goes to stderr and the caller gets a 500.
module.exports = async (body, context) => {
  return { status: 'done', method: context.method, received: body };
};
