// freePort() hands out ports the kernel never gives to listen(0), so a port picked for a process that binds it
// later cannot meanwhile become another server's (two test jobs side by side sent one's load to the other).
import t from 'tap';
import { createServer, type Server } from 'node:net';
import { ephemeralStart, freePort } from '../../common/free-port.js';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}
const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

t.test('the ephemeral range is read from the kernel, with Linux\'s default when it cannot be', async (t) => {
  t.equal(ephemeralStart(() => '40000\t60999\n'), 40_000);
  t.equal(ephemeralStart(() => 'nonsense'), 32_768);
  t.equal(ephemeralStart(() => { throw new Error('ENOENT'); }), 32_768);
});

t.test('the ports picked lie below the ephemeral range, and are bindable', async (t) => {
  const end = ephemeralStart();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    t.ok(port >= 10_000 && port < end, `${port} lies in [10000, ${end})`);
    await close(await listen(port));
  }
});

t.test('no listen(0) gets a port freePort() picked', async (t) => {
  const picked = new Set<number>();
  for (let i = 0; i < 50; i++) picked.add(await freePort());
  const servers = await Promise.all(Array.from({ length: 200 }, () => listen(0)));
  t.teardown(() => Promise.all(servers.map(close)));
  const clashes = servers.map((s) => (s.address() as { port: number }).port).filter((p) => picked.has(p));
  t.same(clashes, [], 'the kernel handed none of the picked ports to listen(0)');
});

t.test('a taken port is skipped: the next candidate is tried', async (t) => {
  const taken = await listen(await freePort());
  t.teardown(() => close(taken));
  const takenPort = (taken.address() as { port: number }).port;
  const end = ephemeralStart();
  // The first draw lands on the taken port, the second anywhere.
  const draws = [(takenPort - 10_000 + 0.5) / (end - 10_000), 0.5];
  const port = await freePort(() => draws.shift() ?? Math.random());
  t.not(port, takenPort);
  t.ok(port >= 10_000 && port < end);
});
