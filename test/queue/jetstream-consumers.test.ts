// FunctionConsumers.mayServe: whether a next() whose busy set names some functions has anything to pull, from the
// consumers this process knows (a fake JetStream manager lists them), unless that list is older than its refresh.
import t from 'tap';
import type { JetStreamManager } from '@nats-io/jetstream';
import { FunctionConsumers } from '../../router/queue/jetstream/jetstream-consumers.js';
import { jetStreamNames } from '../../router/queue/jetstream/jetstream-names.js';

function manager(consumers: string[]): JetStreamManager {
  return {
    consumers: {
      list: () => (async function* () { for (const name of consumers) yield { name, config: { ack_wait: 30_000_000_000 } }; })(),
      update: async () => ({}),
    },
  } as unknown as JetStreamManager;
}

t.test('mayServe: false only when every known function is busy and the list is fresh', async (t) => {
  const names = jetStreamNames('mq');
  const consumers = new FunctionConsumers(names, 30_000);
  t.equal(consumers.mayServe(new Set()), true, 'never listed: stale, so a fill reads the list');
  await consumers.sources(manager([`${names.prefix}-fn-a`, `${names.prefix}-fn-b`]));
  t.same(consumers.known().map((s) => s.functionName).sort(), ['a', 'b'], 'two functions known');
  t.equal(consumers.mayServe(new Set(['a'])), true, 'b is not busy');
  t.equal(consumers.mayServe(new Set(['a', 'b'])), false, 'both busy, list fresh: nothing to pull');
  t.equal(consumers.mayServe(new Set(['a', 'b', 'c'])), false, 'names unknown to the list change nothing');

  await consumers.sources(manager([`${names.prefix}-fn-a`, names.legacy]), true);
  t.equal(consumers.mayServe(new Set(['a', 'b'])), true, 'the earlier layout\'s consumer holds calls of any function');

  await consumers.sources(manager([`${names.prefix}-fn-a`]), true);
  t.equal(consumers.mayServe(new Set(['a'])), false, 'fresh again, a busy');
  const realNow = Date.now;
  t.teardown(() => { Date.now = realNow; });
  Date.now = () => realNow() + 2_100;
  t.equal(consumers.mayServe(new Set(['a'])), true, 'past the refresh (2 s): a fill would read the list again');
});
