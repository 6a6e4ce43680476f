import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { requireNats, startNats, startNatsCluster } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait.js';

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
  const si = await waitFor(() => jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'], num_replicas: 3 }), 10_000,
    'a stream with 3 replicas', { intervalMs: 200, checkMayThrow: true });
  t.equal(si.config.num_replicas, 3, 'stream with 3 replicas created');
  await nc.close();
});
