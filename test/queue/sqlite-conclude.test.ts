// conclude(): endAttempt + finish (+ ack) as one fenced write, group-committed with the other lease
// changes of its event-loop turn. A refused conclude inside a batch is refused alone; a crash before
// its batch commits leaves the call as it was (running, delivered again); after, the call is final
// and out of the queue (never run again).

import t from 'tap';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createQueue, LeaseLostError, CallStateError, type Lease } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';
import { settle } from './contract-helpers.js';
import { fixtureArgv } from '../helpers/processes.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'conclude-then-die.ts');
const childEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS; // 125 ms per node start on these machines
const ok = { status: 'succeeded' as const, result: { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('out') } };

t.test('conclude writes the attempt, the result and the ack at once; the record reads as after the three calls', async (t) => {
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`);
  t.teardown(() => queue.close());
  const a = makeCall();
  const b = makeCall({ callbackUrl: 'http://127.0.0.1:9/cb' });
  await queue.enqueue(a);
  await queue.enqueue(b);
  for (const lease of [await queue.next({ timeoutMs: 2000 }), await queue.next({ timeoutMs: 2000 })]) {
    t.ok(lease?.conclude, 'the sqlite lease offers conclude');
    await lease!.beginAttempt();
    const acked = lease!.record.callbackUrl === null;
    const record = await lease!.conclude!({ statusCode: 200 }, ok, acked);
    t.equal(record.status, 'succeeded');
    t.equal(record.attempts.length, 1);
    t.equal(record.attempts[0]!.statusCode, 200, 'the attempt is closed with the status');
    t.not(record.attempts[0]!.finishedAt, null);
    if (!acked) {
      t.equal(record.callback.state, 'pending', 'a callback is still due: the message stays leased');
      await lease!.callbackAttempt({ state: 'delivered', statusCode: 200 });
      await lease!.ack();
    }
  }
  t.equal((await queue.get(a.id))?.result?.body?.toString(), 'out', 'the result body is stored');
  t.equal((await queue.get(b.id))?.callback.state, 'delivered');
  t.equal(await queue.next({ timeoutMs: 200 }), null, 'both calls left the queue');
});

t.test('a conclude refused inside a batch is refused alone; the others in the batch commit', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${path}`, { ackWaitMs: 30_000 });
  t.teardown(() => queue.close());
  const calls = [makeCall(), makeCall(), makeCall(), makeCall()];
  for (const c of calls) await queue.enqueue(c);
  const leases = (await Promise.all(calls.map(() => queue.next({ timeoutMs: 2000 })))) as Lease[];
  await Promise.all(leases.map((l) => l.beginAttempt()));
  // Another process takes call 0 (the first due) away: its lease lapses there (that clock runs ahead) and is re-leased.
  const other = await createQueue(`sqlite:${path}`, { now: () => Date.now() + 60_000 });
  t.teardown(() => other.close());
  const stolen = leases[0]!.request.id;
  let taken: Lease | null = null;
  const spare: Lease[] = [];
  while ((taken = await other.next({ timeoutMs: 1000 })) !== null && taken.request.id !== stolen) spare.push(taken);
  t.equal(taken?.request.id, stolen, 'the other process holds call 0 now');
  // Call 2 finished already (a second conclude in the same batch: the transition refuses it).
  await leases[2]!.conclude!({ statusCode: 200 }, ok, false);
  const outcomes = await Promise.allSettled(leases.map((l) => l.conclude!({ statusCode: 200 }, ok, true)));
  t.equal(outcomes[1]!.status, 'fulfilled');
  t.equal(outcomes[3]!.status, 'fulfilled');
  t.ok(outcomes[0]!.status === 'rejected' && outcomes[0].reason instanceof LeaseLostError, 'the lost lease is refused');
  t.ok(outcomes[2]!.status === 'rejected' && outcomes[2].reason instanceof CallStateError, 'the finished call cannot finish again');
  for (const i of [1, 3]) t.equal((await queue.get(calls[i]!.id))?.status, 'succeeded', `call ${i} committed in the same batch`);
  const lost = await queue.get(stolen);
  t.equal(lost?.status, 'running', 'nothing of the refused conclude was written');
  await settle(taken!);
  t.equal((await queue.get(stolen))?.status, 'succeeded', 'the new holder settles it');
  await leases[2]!.ack();
  for (const l of spare) await l.nak(60_000_000);
});

t.test('a heartbeat and a conclude of the same lease in one batch: both written, in order', async (t) => {
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`);
  t.teardown(() => queue.close());
  const c = makeCall();
  await queue.enqueue(c);
  const lease = (await queue.next({ timeoutMs: 2000 }))!;
  await lease.beginAttempt();
  const [, done] = await Promise.all([lease.working(), lease.conclude!({ statusCode: 201 }, ok, true), lease.working().catch((e: unknown) => e)]);
  t.equal(done.status, 'succeeded');
  t.equal((await queue.get(c.id))?.attempts[0]?.statusCode, 201);
  t.equal(await queue.next({ timeoutMs: 200 }), null, 'acked: not in the queue');
});

t.test('killed with SIGKILL between conclude batches: committed calls stay final, the rest come back once', async (t) => {
  const path = join(t.testdir(), 'queue.db');
  const N = 8;
  const ids: string[] = [];
  {
    const queue = await createQueue(`sqlite:${path}`);
    for (let i = 0; i < N; i++) { const call = makeCall(); ids.push(call.id); await queue.enqueue(call); }
    await queue.close();
  }
  const child = spawn(process.execPath, fixtureArgv(fixture, path, String(N)), { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  let out = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
  t.equal(signal, 'SIGKILL', `the child killed itself (stderr: ${stderr.slice(-500)})`);
  const done = out.trim().split(' ').slice(1);
  t.equal(done.length, N / 2);

  const queue = await createQueue(`sqlite:${path}`, { now: () => Date.now() + 120_000, sqlite: { pollIntervalMs: 20 } });
  t.teardown(() => queue.close());
  for (const id of done) t.equal((await queue.get(id))?.status, 'succeeded', 'a committed conclude is final');
  const again: Lease[] = [];
  for (;;) {
    const lease = await queue.next({ timeoutMs: 500 });
    if (lease === null) break;
    again.push(lease);
  }
  const rest = ids.filter((id) => !done.includes(id)).sort();
  t.same(again.map((l) => l.request.id).sort(), rest, 'only the calls whose conclude never committed come back, each once');
  t.ok(again.every((l) => l.record.status === 'running' && l.deliveryCount === 2), 'as they were before it: running, second delivery');
  for (const lease of again) await settle(lease);
  for (const id of rest) {
    const r = await queue.get(id);
    t.equal(r?.status, 'succeeded');
    t.equal(r?.attempts.length, 2, 'the lost attempt is on record, closed, and one more ran');
  }
});
