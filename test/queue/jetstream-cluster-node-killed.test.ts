// A three-node NATS cluster with replicas 3: the stream leader is killed during a run of 2,000 calls. Clients
// retry a refused call (503) with the same id, as the README tells them to: every call is accepted once the
// cluster has a new leader, and every accepted call (the router would have answered 202) completes.

import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createQueue, type Lease, type Queue } from '../../router/queue/index.js';
import { requireNats, startNatsCluster } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';

t.test('kill the stream leader of a 3-node cluster mid-run: every accepted call completes', { timeout: 240_000 }, async (t) => {
  if (!requireNats(t)) return;
  const nodes = await startNatsCluster(t, 3);
  const url = `${nodes.map((n) => n.url).join(',')}?replicas=3&name=ha`;
  const open = (): Promise<Queue> => createQueue(url, { ackWaitMs: 4_000 });
  const routers = [await open(), await open()];
  const workers = [await open(), await open()];
  t.teardown(() => Promise.all([...routers, ...workers].map((q) => q.close())));

  const total = 2_000;
  const accepted = new Set<string>();
  const refused: string[] = [];
  const retryUntil = Date.now() + 90_000;
  let firstRefusal = 0;
  let lastRefusal = 0;
  let stop = false;
  const work = async (q: Queue): Promise<void> => {
    while (!stop) {
      const lease: Lease | null = await q.next({ timeoutMs: 1_000 }).catch(() => null);
      if (lease === null) continue;
      try {
        if (lease.record.status !== 'succeeded') {
          await lease.beginAttempt();
          await lease.endAttempt({ statusCode: 200 });
          await lease.finish({ status: 'succeeded', result: null });
        }
        await lease.ack();
      } catch { /* NATS failing over: the call comes back after ack_wait */ }
    }
  };
  const workerLoops = workers.flatMap((q) => [1, 2, 3, 4, 5, 6].map(() => work(q)));

  let next = 0;
  let killed: string | null = null;
  const producer = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      if (i === 500 && killed === null) killed = await killLeader();
      const id = `ha-${i}`;
      while (!accepted.has(id) && Date.now() < retryUntil) {
        try {
          await routers[i % 2]!.enqueue(call(id));
          accepted.add(id);
        } catch (err) {
          lastRefusal = Date.now();
          firstRefusal ||= lastRefusal;
          refused.push(`${id}: ${(err as { code?: string }).code}`);
          await new Promise((r) => setTimeout(r, 250)); // a client backing off after a 503, then retrying
        }
      }
    }
  };
  const killLeader = async (): Promise<string> => {
    const nc = await connect({ servers: nodes.map((n) => n.url) });
    const info = await (await jetstreamManager(nc)).streams.info('ha-calls');
    await nc.close();
    const leader = info.cluster?.leader ?? 'n1';
    await nodes[Number(leader.slice(1)) - 1]!.kill();
    return leader;
  };
  const start = Date.now();
  await Promise.all(Array.from({ length: 16 }, () => producer()));
  t.comment(`killed stream leader ${killed}; accepted ${accepted.size}; ${refused.length} refused attempts over ` +
    `${lastRefusal - firstRefusal} ms ${refused.slice(0, 3).join(' ')}`);
  // Done = the record says succeeded (an ack lost in the failover is settled quietly on redelivery).
  let pending = [...accepted];
  const deadline = Date.now() + 120_000;
  while (pending.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const records = await Promise.all(pending.map((id) => routers[0]!.get(id).catch(() => null)));
    pending = pending.filter((_, i) => records[i]?.status !== 'succeeded');
  }
  stop = true;
  await Promise.all(workerLoops);
  t.comment(`accepted calls completed ${Date.now() - start} ms after the first enqueue; not completed: ${pending.length}`);
  t.ok(killed !== null, 'a node was killed mid-run');
  t.equal(accepted.size, total, 'every call was accepted in the end: refused (503) only while the cluster had no leader');
  t.same(pending, [], 'every accepted call\'s record says succeeded');
  t.equal(await workers[0]!.next({ timeoutMs: 1_000 }), null, 'nothing left in the stream');
});
