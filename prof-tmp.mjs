import { createQueue } from '/work/wt-r18-js/dist/router/queue/index.js';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { concurrently, benchCall, BODY } from '/work/wt-r18-js/dist/bench/queue-load.js';
const url = 'nats://127.0.0.1:14299';
const tag = 'p' + Date.now() % 100000;
const q = await createQueue(url, { jetstream: { name: tag } });
const nc = await connect({ servers: url });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: 'raw' + tag, subjects: ['raw' + tag + '.>'], retention: 'workqueue', storage: 'file' });
const js = jetstream(nc);
for (let round = 0; round < 3; round++) {
  const a = await concurrently(5000, 32, (i) => js.publish('raw' + tag + '.echo', BODY, { msgID: `raw-${round}-${i}` }));
  const b = await concurrently(5000, 32, (i) => q.enqueue(benchCall(tag + round, i)));
  console.log(round, 'raw', Math.round(5000 / a * 1000), 'enq', Math.round(5000 / b * 1000));
}
await q.close(); await nc.close();
