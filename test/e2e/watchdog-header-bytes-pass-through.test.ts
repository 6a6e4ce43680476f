// Header bytes reach the handler as sent. Node reads header values as latin1 (one char a
// byte); passed on as such, child_process and the native path encode them as UTF-8 again, so é (C3 A9) arrived
// as C3 83 C2 A9. UTF-8 passes through byte for byte on both spawn paths, in Http_* and in marshal_request's
// envelope; bytes that are not UTF-8 cannot cross an environment made of strings and become U+FFFD (EF BF BD),
// the same on both paths. (Non-ASCII bytes in the request target are refused by Node's parser: 400.)
import { connect } from 'node:net';
import t from 'tap';
import { startWatchdog } from '../helpers/start-watchdog.js';

/** Send a request made of raw bytes; resolves with the raw response (the request asks to close). */
function rawRequest(port: number, head: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    s.write(head);
  });
}

const request = (name: Buffer): Buffer => Buffer.concat([
  Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Name: '), name, Buffer.from('\r\n\r\n'),
]);

/** The response body. */
const bodyOf = (res: Buffer): Buffer => res.subarray(res.indexOf('\r\n\r\n') + 4);

const E_ACUTE = Buffer.from([0xc3, 0xa9]);

t.test('a header with the bytes C3 A9 reaches the handler as those 2 bytes', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh -c 'printf "%s" "$Http_X_Name"'` });
  const res = await rawRequest(wd.port, request(E_ACUTE));
  t.match(res.toString('latin1'), /^HTTP\/1\.1 200 /);
  t.same(bodyOf(res), E_ACUTE, 'the bytes as sent');
});

t.test('bytes that are not UTF-8 become U+FFFD', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh -c 'printf "%s" "$Http_X_Name"'` });
  const res = await rawRequest(wd.port, request(Buffer.from([0x61, 0xff, 0x62])));
  t.same(bodyOf(res), Buffer.from([0x61, 0xef, 0xbf, 0xbd, 0x62]));
});

t.test('marshal_request: the envelope carries the header as the same UTF-8 bytes', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', marshal_request: 'true' });
  const res = await rawRequest(wd.port, request(E_ACUTE));
  const envelope = JSON.parse(bodyOf(res).toString('utf8')) as { header: Record<string, string[]> };
  t.same(envelope.header['X-Name'], ['é']);
});
