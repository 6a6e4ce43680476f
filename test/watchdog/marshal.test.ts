// marshal_request's envelope is written in pieces (header JSON, base64 of the body chunk by chunk, the close)
// and must equal the one-shot JSON.stringify of the whole thing, whatever the sizes and chunk boundaries.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { MarshalEncoder } from '../../watchdog/marshal.js';

const header = { 'Content-Type': ['application/octet-stream'], 'X-Many': ['a', 'b'], 'X-Quote': ['say "hi"\\'] };

function oneShot(body: Buffer): string {
  return JSON.stringify({ header, body: { raw: body.toString('base64') } });
}

function streamed(body: Buffer, chunkSize: number): { text: string; pieces: Buffer[] } {
  const enc = new MarshalEncoder(header);
  const pieces = [enc.head()];
  for (let i = 0; i < body.length; i += chunkSize) pieces.push(enc.push(body.subarray(i, i + chunkSize)));
  pieces.push(enc.end());
  return { text: Buffer.concat(pieces).toString(), pieces };
}

t.test('the streamed envelope equals the one-shot encoding for bodies of 0, 1, 2, 3 and 65537 bytes', async (t) => {
  for (const size of [0, 1, 2, 3, 65536 + 1]) {
    const body = randomBytes(size);
    for (const chunkSize of [1, 2, 3, 4, 5, 7, 1000, 65536, 70000]) {
      const { text } = streamed(body, chunkSize);
      t.equal(text, oneShot(body), `${size} bytes in chunks of ${chunkSize}`);
    }
    t.same(JSON.parse(streamed(body, 7).text), { header, body: { raw: body.toString('base64') } }, `${size} bytes parse back`);
  }
});

t.test('every body piece is whole base64: no padding before the end', async (t) => {
  const { pieces } = streamed(randomBytes(1000), 7);
  const middle = pieces.slice(1, -1).map((p) => p.toString());
  for (const p of middle) t.notMatch(p, /=/, 'no padding mid-stream');
  t.ok(middle.every((p) => p.length % 4 === 0), 'each piece is whole base64 quads');
});
