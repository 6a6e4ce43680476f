// http mode keeps undici's WebAssembly llhttp on V8's baseline compiler (Liftoff): its TurboFan recompile,
// about a second into the load, is what left ~9 MB more on the idle watchdog's RSS. Seen through V8's own
// trace of what it compiled, in a fresh process that parses 2,000 responses (enough to trigger the tier-up).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const UNDICI = fileURLToPath(new URL('../../dist/watchdog/undici.js', import.meta.url));
const WASM_TIER = fileURLToPath(new URL('../../dist/common/wasm-tier.js', import.meta.url));

const PROBE = `
import { createServer } from 'node:http';
const { loadPool } = await import(${JSON.stringify(UNDICI)});
const { keepLlhttpOnLiftoff } = await import(${JSON.stringify(WASM_TIER)});
keepLlhttpOnLiftoff();
const Pool = loadPool();
const server = createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const pool = new Pool('http://127.0.0.1:' + server.address().port, { connections: null });
const one = () => new Promise((resolve, reject) => pool.dispatch({ method: 'GET', path: '/', headers: {} }, {
  onRequestStart() {}, onResponseStart() {}, onResponseData() {}, onResponseEnd: resolve, onResponseError: (_c, err) => reject(err),
}));
for (let i = 0; i < 2000; i++) await one();
await new Promise((resolve) => setTimeout(resolve, 500)); // a background TurboFan job would report by now
await pool.close();
server.close();
`;

t.test('llhttp is compiled with Liftoff and never recompiled with TurboFan', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--trace-wasm-compilation-times', '--input-type=module', '-e', PROBE], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const compiled = stdout.split('\n').filter((l) => l.startsWith('Compiled function'));
  t.ok(compiled.some((l) => l.includes('using Liftoff')), `llhttp was compiled with Liftoff (V8 reported: ${compiled.length} functions)`);
  t.same(compiled.filter((l) => l.includes('using TurboFan')), [], 'no function recompiled with TurboFan');
});
