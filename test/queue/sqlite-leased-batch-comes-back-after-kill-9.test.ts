// A process killed after leasing a batch loses nothing: every call of the batch (started or not) is
// handed out again once its lease passes ack_wait, each exactly once, with deliveryCount 2.

import t from 'tap';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createQueue, type Lease } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';
import { settle } from './contract-helpers.js';
import { fixtureArgv } from '../helpers/processes.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lease-batch.ts');
const childEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS; // 125 ms per node start on these machines
const BATCH = 8;

t.test('a batch leased by a process killed with SIGKILL comes back after ack_wait, none lost', async (t) => {
  const path = join(t.testdir(), 'queue.db');
  const ids: string[] = [];
  {
    const queue = await createQueue(`sqlite:${path}`);
    for (let i = 0; i < BATCH; i++) { const call = makeCall(); ids.push(call.id); await queue.enqueue(call); }
    await queue.close();
  }
  const child = spawn(process.execPath, fixtureArgv(fixture, path, String(BATCH)), { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  t.teardown(() => { child.kill('SIGKILL'); });
  let out = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child leased nothing in 30 s; stderr: ${stderr}`)), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('\n')) { clearTimeout(timer); resolve(); } });
    child.once('exit', () => { clearTimeout(timer); reject(new Error(`child exited early: ${stderr}`)); });
  });
  const leased = out.trim().split(' ').slice(1);
  t.same([...leased].sort(), [...ids].sort(), 'the child leased the whole batch');
  child.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');

  // A queue whose clock runs ahead of the child's lease deadlines (60 s) sees them lapsed.
  const queue = await createQueue(`sqlite:${path}`, { now: () => Date.now() + 120_000, sqlite: { pollIntervalMs: 20 } });
  t.teardown(() => queue.close());
  const again: Lease[] = [];
  for (;;) {
    const lease = await queue.next({ timeoutMs: 500 });
    if (lease === null) break;
    again.push(lease);
  }
  t.same(again.map((l) => l.request.id).sort(), [...ids].sort(), 'every call of the batch came back, each once');
  t.same(again.map((l) => l.deliveryCount), again.map(() => 2), 'as a second delivery');
  const started = again.filter((l) => l.record.status === 'running').length;
  t.equal(started, BATCH / 2, 'the attempts begun before the kill are on record');
  for (const lease of again) await settle(lease);
  for (const id of ids) t.equal((await queue.get(id))?.status, 'succeeded');
});
