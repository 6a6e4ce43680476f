import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { requireNats, startNats, startNatsCluster } from '../helpers/nats-server.js';

t.test('a single JetStream server starts on a free port and answers', async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const nc = await connect({ servers: node.url });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.getAccountInfo();
  t.ok(info.limits, 'JetStream is enabled');
  await nc.close();
});

t.test('a three-node cluster forms and accepts an R3 stream', async (t) => {
  if (!requireNats(t)) return;
  const nodes = await startNatsCluster(t, 3);
  const nc = await connect({ servers: nodes.map((n) => n.url) });
  const jsm = await jetstreamManager(nc);
  // The meta leader is elected a moment after the routes connect: retry briefly.
  let err: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      const si = await jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'], num_replicas: 3 });
      t.equal(si.config.num_replicas, 3);
      err = undefined;
      break;
    } catch (e) { err = e; await new Promise((r) => setTimeout(r, 200)); }
  }
  t.equal(err, undefined, 'stream with 3 replicas created');
  await nc.close();
});
