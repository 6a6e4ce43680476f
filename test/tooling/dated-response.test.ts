// DatedResponse puts one Date header into every response head that has none, whichever way the head is
// written, and leaves a Date the handler (or the function behind a proxy) set alone.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { DatedResponse } from '../../common/dated-response.js';

const GIVEN = 'Tue, 01 Jan 2030 00:00:00 GMT';
const HEADS: Record<string, (res: ServerResponse) => void> = {
  'writeHead(status, object)': (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('a'),
  'writeHead(status, reason, object)': (res) => res.writeHead(201, 'Made', { 'Content-Type': 'text/plain' }).end('b'),
  'writeHead(status, raw list)': (res) => res.writeHead(200, ['Content-Type', 'text/plain', 'X-Two', '2']).end('c'),
  'writeHead(status)': (res) => res.writeHead(204).end(),
  'setHeader, then end (implicit head)': (res) => { res.setHeader('Content-Type', 'text/plain'); res.end('d'); },
  'end only': (res) => res.end(),
  'setHeader then writeHead(status, object)': (res) => { res.setHeader('X-One', '1'); res.writeHead(200, { 'X-Two': '2' }).end(); },
  'date in the object (lower case)': (res) => res.writeHead(200, { date: GIVEN }).end(),
  'Date in the object': (res) => res.writeHead(200, { Date: GIVEN }).end(),
  'date in a raw list': (res) => res.writeHead(200, ['DATE', GIVEN]).end(),
  'Date set with setHeader': (res) => { res.setHeader('Date', GIVEN); res.writeHead(200, { 'X-Two': '2' }).end(); },
  'sendDate turned off': (res) => { res.sendDate = false; res.end(); },
};

t.test('one Date header per response, however its head is written', async (t) => {
  const names = Object.keys(HEADS);
  const server = createServer({ ServerResponse: DatedResponse }, (req, res) => HEADS[names[Number(req.url!.slice(1))]!]!(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const { port } = server.address() as AddressInfo;
  for (const [i, name] of names.entries()) {
    const res = await request(`http://127.0.0.1:${port}/${i}`);
    await res.body.dump();
    const raw = (res.headers as Record<string, string | string[] | undefined>)['date'];
    if (name === 'sendDate turned off') { t.equal(raw, undefined, `${name}: no Date`); continue; }
    t.equal(typeof raw, 'string', `${name}: exactly one Date header`);
    if (name.includes('Date') || name.includes('date')) t.equal(raw, GIVEN, `${name}: the given Date is kept`);
    else t.match(raw, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/, `${name}: ${String(raw)}`);
  }
});
