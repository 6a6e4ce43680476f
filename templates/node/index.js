'use strict';
// whippet node template entry. The watchdog forks `node index.js` once per request: the request body
// arrives on stdin, and whatever this process writes to stdout is the response body. A handler that
// throws (or rejects) makes the process exit 1 with the message on stderr, which the watchdog turns
// into a 500 with X-Exit-Code: 1.

const path = require('node:path');
const { pathToFileURL } = require('node:url');

/** Reads all of stdin into one Buffer. */
function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', reject);
  });
}

/** Request details the watchdog passes as Http_* environment variables (OpenFaaS CGI style). */
function requestContext(raw) {
  const env = process.env;
  const headers = {};
  for (const [key, value] of Object.entries(env)) {
    // Http_X_Call_Id -> x-call-id, Http_Host -> host; the fixed fields below are not headers.
    if (!key.startsWith('Http_') || FIXED.has(key)) continue;
    headers[key.slice(5).toLowerCase().replace(/_/g, '-')] = value;
  }
  const rawQuery = env.Http_Query ?? '';
  return {
    method: env.Http_Method ?? 'POST',
    path: env.Http_Path ?? '/',
    rawQuery,
    query: Object.fromEntries(new URLSearchParams(rawQuery)),
    headers,
    rawBody: raw,
  };
}
const FIXED = new Set(['Http_Method', 'Http_Path', 'Http_Query', 'Http_ContentLength']);

/** Loads function/handler.js (CommonJS or ESM) and returns the handler function. */
async function loadHandler() {
  const mod = await import(pathToFileURL(path.join(__dirname, 'function', 'handler.js')).href);
  const candidates = [mod.default, mod.handle, mod.default && mod.default.handle];
  const fn = candidates.find((c) => typeof c === 'function');
  if (!fn) throw new Error('function/handler.js must export a function (module.exports = async (body, context) => ...)');
  return fn;
}

/** Turns what the handler returned into response bytes: strings and Buffers as they are, anything else as JSON. */
function toBytes(result) {
  if (result === undefined || result === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(result) || result instanceof Uint8Array) return Buffer.from(result);
  if (typeof result === 'string') return Buffer.from(result);
  return Buffer.from(JSON.stringify(result) + '\n');
}

async function main() {
  const raw = await readStdin();
  const handler = await loadHandler();
  const result = await handler(raw.toString('utf8'), requestContext(raw));
  const out = toBytes(result);
  // Exit only after stdout has drained: a pipe write can be asynchronous.
  process.stdout.write(out, () => process.exit(0));
}

main().catch((err) => {
  const debug = /^(1|true|yes|on)$/i.test(process.env.write_debug ?? '');
  const message = err instanceof Error ? (debug ? err.stack : err.message) : String(err);
  process.stderr.write(`${message}\n`, () => process.exit(1));
});
