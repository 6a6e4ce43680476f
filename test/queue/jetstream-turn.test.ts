// TurnBatch: what a turn queues starts together at the end of the turn (so nats.js sends it in one
// socket write), in order, each caller getting its own result or error.

import t from 'tap';
import { TurnBatch } from '../../router/queue/jetstream/jetstream-turn.js';

t.test('the writes of one turn start together after its I/O callbacks, in order, each with its own outcome', async (t) => {
  const batch = new TurnBatch();
  const started: string[] = [];
  const write = (name: string, fail = false) => batch.run(async () => {
    started.push(name);
    if (fail) throw new Error(`${name} refused`);
    return name;
  });
  const a = write('a');
  const b = write('b', true);
  batch.send(() => { started.push('ack'); });
  await Promise.resolve(); // microtasks of this turn run: nothing started yet
  t.same(started, [], 'nothing starts within the turn');
  t.equal(await a, 'a');
  t.same(started, ['a', 'b', 'ack'], 'by the time the first answers, all three started, in the order queued');
  await t.rejects(b, { message: 'b refused' }, 'a failed write fails only its own caller');
  const c = write('c');
  t.equal(await c, 'c', 'a later turn gets a batch of its own');
  t.same(started, ['a', 'b', 'ack', 'c']);
});

t.test('flush() sends what is queued at once (before a close)', async (t) => {
  const batch = new TurnBatch();
  const sent: number[] = [];
  batch.send(() => { sent.push(1); });
  batch.send(() => { throw new Error('connection closed'); });
  batch.send(() => { sent.push(3); });
  batch.flush();
  t.same(sent, [1, 3], 'sent synchronously; a send that throws does not stop the others');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(sent, [1, 3], 'nothing is sent twice');
});
