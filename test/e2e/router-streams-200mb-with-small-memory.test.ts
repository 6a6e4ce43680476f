// 200 MB POSTed through the router to a streaming-mode echo (cat) comes back byte
// for byte, and the router's peak RSS stays under 150 MB: bodies stream, they are never buffered.
// The router runs uninstrumented (no coverage loader) so the number is the production process's.
import t from 'tap';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { peakRss, startRouter, startWatchdog } from '../helpers/start-router.js';

const TOTAL = 200 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** Deterministic, non-repeating-per-chunk bytes, hashed as they are produced. */
function source(hash: ReturnType<typeof createHash>): Readable {
  let sent = 0;
  let n = 0;
  const block = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) block[i] = (i * 31 + 7) & 0xff;
  return new Readable({
    read() {
      if (sent >= TOTAL) { this.push(null); return; }
      const chunk = Buffer.from(block);
      chunk.writeUInt32BE(n++, 0);
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

t.test('200 MB round-trips byte for byte through router and streaming watchdog', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', mode: 'streaming', exec_timeout: '0', read_timeout: '2m', write_timeout: '2m' });
  const router = await startRouter(t, { functions: `echo=${wd.url}`, upstream_timeout: '2m', write_timeout: '2m', read_timeout: '2m' }, { uninstrumented: true });
  const sentHash = createHash('sha256');
  const res = await request(`${router.url}/function/echo`, {
    method: 'POST', body: source(sentHash), headers: { 'content-type': 'application/octet-stream' },
  });
  t.equal(res.statusCode, 200);
  const gotHash = createHash('sha256');
  let received = 0;
  for await (const chunk of res.body) { gotHash.update(chunk as Buffer); received += (chunk as Buffer).length; }
  t.equal(received, TOTAL, 'every byte came back');
  t.equal(gotHash.digest('hex'), sentHash.digest('hex'), 'the same bytes in the same order');
  const peak = await peakRss(router.pid);
  t.comment(`router VmHWM ${(peak / 1024 / 1024).toFixed(1)} MB`);
  t.ok(peak > 0 && peak < 150 * 1024 * 1024, `router peak RSS ${(peak / 1024 / 1024).toFixed(1)} MB < 150 MB`);
});
