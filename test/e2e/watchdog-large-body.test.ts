// 200 MB through cat. Streaming mode round-trips it with backpressure, so the watchdog's peak RSS
// stays under 150 MB; serializing mode returns the same bytes (buffered).
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import t from 'tap';
import { peakRss, startWatchdog } from '../helpers/start-watchdog.js';

const MB = 1024 * 1024;
const TOTAL_MB = 200;

/** 200 distinct 1 MB chunks (a random block stamped with its index), and the sha256 of them all. */
function body(): { stream: () => Readable; sha256: string } {
  const block = Buffer.alloc(MB);
  for (let i = 0; i < MB; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  const chunk = (i: number): Buffer => { const b = Buffer.from(block); b.writeUInt32LE(i, 0); b.writeUInt32LE(i, MB / 2); return b; };
  const hash = createHash('sha256');
  for (let i = 0; i < TOTAL_MB; i++) hash.update(chunk(i));
  return {
    sha256: hash.digest('hex'),
    stream: () => Readable.from((function* () { for (let i = 0; i < TOTAL_MB; i++) yield chunk(i); })(), { objectMode: false }),
  };
}

function roundTrip(url: string, source: Readable): Promise<{ status: number; bytes: number; sha256: string; trailers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; hash.update(c); });
      res.on('end', () => resolve({ status: res.statusCode!, bytes, sha256: hash.digest('hex'), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    source.pipe(req);
  });
}

const data = body();

t.test('streaming: 200 MB round-trips byte for byte with the watchdog peak RSS under 150 MB', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', mode: 'streaming', exec_timeout: '60s', write_timeout: '60s', read_timeout: '60s' });
  const r = await roundTrip(`${wd.url}/`, data.stream());
  t.equal(r.status, 200);
  t.equal(r.bytes, TOTAL_MB * MB);
  t.equal(r.sha256, data.sha256, 'same bytes');
  t.equal(r.trailers['x-exit-code'], '0', 'exit code in the trailer');
  const peak = peakRss(wd.pid);
  t.ok(peak < 150 * MB, `VmHWM ${(peak / MB).toFixed(1)} MB < 150 MB`);
});

t.test('serializing: 200 MB comes back byte for byte', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', exec_timeout: '60s', write_timeout: '60s', read_timeout: '60s' });
  const r = await roundTrip(`${wd.url}/`, data.stream());
  t.equal(r.status, 200);
  t.equal(r.bytes, TOTAL_MB * MB);
  t.equal(r.sha256, data.sha256, 'same bytes');
});

t.test('streaming: a failure after the first byte is reported in the X-Exit-Code trailer', async (t) => {
  const { handler } = await import('../helpers/start-watchdog.js');
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('late-fail.sh')}`, mode: 'streaming' });
  const r = await roundTrip(`${wd.url}/`, Readable.from([Buffer.from('x')]));
  t.equal(r.status, 200);
  t.equal(r.bytes, 'partial\n'.length);
  t.equal(r.trailers['x-exit-code'], '4');
  const before = await startWatchdog(t, { fprocess: `sh -c 'exit 5'`, mode: 'streaming' });
  const early = await roundTrip(`${before.url}/`, Readable.from([Buffer.from('x')]));
  t.equal(early.status, 500, 'a failure before any output is a 500');
});
