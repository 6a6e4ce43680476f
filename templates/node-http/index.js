'use strict';
// whippet node-http template entry: one long-running process (watchdog mode=http). The watchdog
// starts it once and proxies every request to it at upstream_url; the handler keeps its memory
// between calls. The listen port is http_port when set, else the port of upstream_url (so the
// watchdog's setting is the one truth), else 3000. It listens on 127.0.0.1 only: the watchdog is
// the way in.

const http = require('node:http');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

/** The port this server listens on, from http_port or upstream_url. */
function listenPort(env) {
  if (env.http_port !== undefined && env.http_port !== '') {
    const port = Number(env.http_port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`http_port: not a port: ${env.http_port}`);
    return port;
  }
  if (env.upstream_url) {
    const url = new URL(env.upstream_url);
    if (url.port) return Number(url.port);
    return url.protocol === 'https:' ? 443 : 80;
  }
  return 3000;
}

/** Loads function/handler.js (CommonJS or ESM) and returns the handler function. */
async function loadHandler() {
  const mod = await import(pathToFileURL(path.join(__dirname, 'function', 'handler.js')).href);
  const fn = [mod.default, mod.handle, mod.default && mod.default.handle].find((c) => typeof c === 'function');
  if (!fn) throw new Error('function/handler.js must export a function (module.exports = async (event, context) => ...)');
  return fn;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The event a handler gets: method, path, query (object), rawQuery, headers, body (string), rawBody. */
function toEvent(req, raw) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  return {
    method: req.method,
    path: url.pathname,
    rawQuery: url.search.slice(1),
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body: raw.toString('utf8'),
    rawBody: raw,
  };
}

const isBytes = (v) => typeof v === 'string' || Buffer.isBuffer(v) || v instanceof Uint8Array;

/** Maps the handler's result to status, headers and bytes: {statusCode, headers, body}, or a bare body. */
function toResponse(result) {
  const shaped = result !== null && typeof result === 'object' && !isBytes(result)
    && ('statusCode' in result || 'body' in result || 'headers' in result);
  const statusCode = shaped && result.statusCode !== undefined ? Number(result.statusCode) : 200;
  const headers = {};
  for (const [key, value] of Object.entries(shaped && result.headers ? result.headers : {})) {
    // The length is ours to set: the body is sent in one piece.
    if (!/^(content-length|transfer-encoding)$/i.test(key)) headers[key] = value;
  }
  const body = shaped ? result.body : result;
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  if (body === undefined || body === null) return { statusCode: shaped ? statusCode : 204, headers, bytes: Buffer.alloc(0) };
  if (isBytes(body)) return { statusCode, headers, bytes: Buffer.from(body) };
  if (!hasType) headers['content-type'] = 'application/json';
  return { statusCode, headers, bytes: Buffer.from(JSON.stringify(body) + '\n') };
}

async function main() {
  const handler = await loadHandler();
  const port = listenPort(process.env);
  const server = http.createServer(async (req, res) => {
    let response;
    try {
      const raw = await readBody(req);
      const event = toEvent(req, raw);
      response = toResponse(await handler(event, { callId: req.headers['x-call-id'] }));
    } catch (err) {
      process.stderr.write(`handler failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      const message = err instanceof Error ? err.message : String(err);
      response = toResponse({ statusCode: 500, body: { error: message } });
    }
    res.writeHead(response.statusCode, { ...response.headers, 'content-length': response.bytes.length });
    res.end(response.bytes);
  });
  server.listen(port, '127.0.0.1', () => {
    process.stderr.write(`node-http: listening on http://127.0.0.1:${server.address().port}\n`);
  });
  // The watchdog sends SIGTERM after its own drain: finish what is in flight, then go.
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A watchdog killed with SIGKILL cannot stop us; we would keep its upstream port and the restarted
  // watchdog's child could not listen. So leave when our parent is gone (we get re-parented).
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();
}

main().catch((err) => {
  process.stderr.write(`node-http: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
