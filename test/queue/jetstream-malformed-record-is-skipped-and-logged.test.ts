// One value in the records bucket that is not a call record (written by hand, by another tool, or a
// truncated write) must not break every /system/calls listing and queue_depth: list(), depth() and
// sweep() skip it and log its key, and every other call is still listed and counted.

import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createLogger } from '../../common/log.js';
import { createQueue, type NewCall } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';

const call = (id: string): NewCall => ({ id, functionName: 'echo', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('x'), callbackUrl: null });

t.test('list, depth and sweep skip an undecodable record and log it', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const lines: string[] = [];
  const log = createLogger({ format: 'json', write: (line) => { lines.push(line); } });
  const queue = await createQueue(node.url, { ackWaitMs: 5_000, log, jetstream: { name: 'bad' } });
  t.teardown(() => queue.close());
  await queue.enqueue(call('one'));
  await queue.enqueue(call('two'));

  const nc = await connect({ servers: node.url });
  t.teardown(() => nc.close());
  const kv = await new Kvm(jetstream(nc)).open('bad-records');
  await kv.put('garbage', new TextEncoder().encode('not an envelope at all'));
  await kv.put('short', new Uint8Array([0, 0, 0, 9, 123])); // a length prefix past the end
  await kv.put('not-a-record', Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('{}')])); // valid JSON, no record

  t.same((await queue.list()).map((r) => r.id).sort(), ['one', 'two'], 'the listing has every good call');
  t.same(await queue.depth(), [{ functionName: 'echo', status: 'queued', count: 2 }], 'queue_depth counts every good call');
  t.equal(await queue.sweep(), 0, 'sweep goes past them too');
  const skipped = lines.map((line) => JSON.parse(line) as { msg: string; key?: string }).filter((entry) => /undecodable/.test(entry.msg));
  t.same([...new Set(skipped.map((entry) => entry.key))].sort(), ['garbage', 'not-a-record', 'short'], 'each bad record is logged with its key');
});
