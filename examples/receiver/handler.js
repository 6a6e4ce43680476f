'use strict';

// receiver: a callback receiver for async calls (node-http template, one warm process).
// POST stores the callback (headers and body); GET lists the stored ones as JSON, oldest first;
// DELETE forgets them. It keeps the last `keep_callbacks` (default 50) in memory.
const keep = Math.max(1, Number(process.env.keep_callbacks) || 50);
const received = [];

module.exports = async (event) => {
  switch (event.method) {
    case 'GET':
      return { statusCode: 200, body: received };
    case 'DELETE':
      received.length = 0;
      return { statusCode: 204 };
    case 'POST':
    case 'PUT': {
      received.push({
        receivedAt: new Date().toISOString(),
        method: event.method,
        path: event.path,
        callId: event.headers['x-call-id'] ?? null,
        functionName: event.headers['x-function-name'] ?? null,
        functionStatus: event.headers['x-function-status'] ? Number(event.headers['x-function-status']) : null,
        headers: event.headers,
        body: event.body,
      });
      if (received.length > keep) received.splice(0, received.length - keep);
      return { statusCode: 202, body: { stored: received.length } };
    }
    default:
      return { statusCode: 405, headers: { allow: 'GET, POST, PUT, DELETE' }, body: { error: 'method not allowed' } };
  }
};
