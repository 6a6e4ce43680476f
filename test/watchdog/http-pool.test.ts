// undici's Pool (the watchdog's http mode) and Agent (the router's pools) are loaded without undici's HTTP/2
// client (node:http2 pulls in tls), in a fresh process as whippet loads them (watchdog/undici.ts); they still
// proxy over HTTP/1.1, and the HTTP/2 module is there if undici asks for it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const UNDICI = fileURLToPath(new URL('../../dist/watchdog/undici.js', import.meta.url));

// Runs in the child: load the Pool, send one request through it to a node:http server, report what loaded.
const PROBE = `
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
const { loadAgent, loadPool } = await import(${JSON.stringify(UNDICI)});
const Pool = loadPool();
const Agent = loadAgent();
const afterLoad = process.moduleLoadList.filter((m) => /^NativeModule (http2|tls)$/.test(m));
const server = createServer((req, res) => res.end('hi ' + req.url)).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const origin = 'http://127.0.0.1:' + server.address().port;
// One GET through a dispatcher; the body as text.
const get = (dispatcher, opts) => new Promise((resolve, reject) => {
  const chunks = [];
  dispatcher.dispatch({ method: 'GET', headers: {}, ...opts }, {
    onRequestStart() {}, onResponseStart() {},
    onResponseData(_c, chunk) { chunks.push(chunk); },
    onResponseEnd() { resolve(Buffer.concat(chunks).toString()); },
    onResponseError(_c, err) { reject(err); },
  });
});
const pool = new Pool(origin, { connections: null });
const body = await get(pool, { path: '/x' });
await pool.close();
const agent = new Agent({ connections: null });
const viaAgent = await get(agent, { origin, path: '/y' });
await agent.close();
server.close();
const afterRequest = process.moduleLoadList.filter((m) => /^NativeModule (http2|tls)$/.test(m));
const h2 = createRequire(${JSON.stringify(UNDICI)})('undici/lib/dispatcher/client-h2.js');
let lazy;
try { h2({}, {}); } catch (err) { lazy = err.constructor.name; }
const afterH2 = process.moduleLoadList.includes('NativeModule http2');
console.log(JSON.stringify({ afterLoad, afterRequest, body, viaAgent, lazy, afterH2 }));
`;

t.test('the Pool and the Agent load and proxy without node:http2 or tls; HTTP/2 loads when undici asks', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], { timeout: 20_000 });
  const seen = JSON.parse(stdout) as { afterLoad: string[]; afterRequest: string[]; body: string; viaAgent: string; lazy: string; afterH2: boolean };
  t.same(seen.afterLoad, [], 'loading the Pool and the Agent loads neither node:http2 nor tls');
  t.equal(seen.body, 'hi /x', 'a request goes through the Pool');
  t.equal(seen.viaAgent, 'hi /y', 'a request goes through the Agent');
  t.same(seen.afterRequest, [], 'an HTTP/1.1 request loads none of them either');
  t.equal(seen.lazy, 'TypeError', 'the stand-in calls the real HTTP/2 client (which throws on a fake socket)');
  t.equal(seen.afterH2, true, 'node:http2 is loaded once undici asks for its HTTP/2 client');
});
