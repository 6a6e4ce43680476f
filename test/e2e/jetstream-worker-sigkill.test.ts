// Two routers and three `whippet worker` processes on one NATS stream; one worker is
// killed with SIGKILL while it has calls in flight. Those calls are delivered again after ack_wait and
// complete on the survivors; every call that got a 202 gets its callback. Each worker has its own
// upstream, so the test knows which calls the victim was running when it died.
import t from 'tap';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { startRouter } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { getCall, startWorkerProcess } from '../helpers/async-calls.js';
import { calledBack, callIds, postCalls, startCountingFunction } from './jetstream-support.js';

const CALLS = 2_000;
const CLIENTS = 32;
const FUNCTION_MS = 50; // slow enough that a worker always has calls in hand
const KILL_AFTER = 150; // calls the victim has run before it is killed

t.test('SIGKILL a worker mid-run: its in-flight calls run again elsewhere, nothing is lost', { timeout: 110_000 }, async (t) => {
  if (!requireNats(t)) return;
  const nats = await startNats(t);
  const receiver = await startCallbackReceiver(t);
  const front = await startCountingFunction(t);
  const upstreams = await Promise.all([1, 2, 3].map(() => startCountingFunction(t, FUNCTION_MS)));
  const common = { queue: nats.url, ack_wait: '3s' };
  const [routers, workers] = await Promise.all([
    Promise.all([1, 2].map(() => startRouter(t, { ...common, functions: `fast=${front.url}`, async_worker: 'false' }))),
    Promise.all(upstreams.map((u) => startWorkerProcess(t, { ...common, functions: `fast=${u.url}`, max_inflight: '16' }))),
  ]);
  const [victim, ...survivors] = workers;
  const [victimFn, ...survivorFns] = upstreams;

  const delivered = calledBack(receiver.received);
  let killedAt = 0;
  let midInvocation: string[] = [];
  let unfinished: string[] = [];
  const kill = async (): Promise<void> => {
    // What the victim holds at this instant: invocations its function has not answered yet, and calls
    // it invoked whose callback has not arrived (result or callback not stored, or the ack not sent).
    midInvocation = [...victimFn!.open];
    victim!.child.kill('SIGKILL');
    killedAt = Date.now();
    await new Promise((r) => victim!.child.once('exit', r));
    // Requests the victim sent just before it died may reach its function only now: count them once
    // it is gone, against the callbacks that had arrived by the kill.
    await new Promise((r) => setTimeout(r, 300));
    const done = new Set(receiver.received.filter((c) => c.at < killedAt).map((c) => String(c.headers['x-call-id'])));
    unfinished = [...victimFn!.calls.keys()].filter((id) => !done.has(id));
  };
  let killing: Promise<void> | undefined;
  const ids = callIds('kill', CALLS);
  const posting = postCalls({ routers: routers.map((r) => r.url), ids, concurrency: CLIENTS, callbackUrl: `${receiver.url}/cb` });
  // Kill once the victim is well into the run, at a moment it is invoking something.
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (victimFn!.total() >= KILL_AFTER && victimFn!.open.size > 0) { clear(); killing = kill(); resolve(); }
    }, 5);
    const giveUp = setTimeout(() => { clear(); reject(new Error(`victim ran ${victimFn!.total()} calls in 60 s`)); }, 60_000);
    const clear = (): void => { clearInterval(timer); clearTimeout(giveUp); };
  });
  await killing;
  const posted = await posting;
  t.equal(posted.accepted.size, CALLS, 'every call got its 202 (a worker dying does not touch the routers)');
  t.comment(`killed the victim after it had invoked ${victimFn!.total()} calls: ${midInvocation.length} mid-invocation, `
    + `${unfinished.length} without a callback by then`);
  t.ok(midInvocation.length > 0, 'the victim was killed with invocations in flight');

  await receiver.until(() => delivered().size >= CALLS, 90_000, `callbacks for all ${CALLS} calls`);
  const lastCallback = Math.max(...receiver.received.map((c) => c.at));
  await new Promise((r) => setTimeout(r, 500)); // a late duplicate would show now

  const got = delivered();
  t.same([...posted.accepted].filter((id) => !got.has(id)), [], 'every call that got a 202 was called back');
  const bySurvivors = (id: string): number => survivorFns.reduce((n, u) => n + (u.calls.get(id) ?? 0), 0);
  t.same(midInvocation.filter((id) => bySurvivors(id) !== 1), [], 'every call cut off mid-invocation ran again on a survivor, once');
  t.same(unfinished.filter((id) => !got.has(id)), [], 'the victim\'s unfinished calls were all called back');
  // A lease is renewed every ack_wait/3 (1 s), so a dead worker's calls come back 2-3 s after the kill.
  const again = midInvocation.map((id) => receiver.received.find((c) => c.headers['x-call-id'] === id)!.at - killedAt);
  t.ok(Math.min(...again) >= 1_500, `the lost leases came back after ack_wait (${Math.min(...again)}-${Math.max(...again)} ms after the kill)`);
  const twice = ids.filter((id) => (victimFn!.calls.get(id) ?? 0) + bySurvivors(id) > 1);
  t.same(twice.filter((id) => !unfinished.includes(id)), [], 'only calls the victim had in hand were invoked twice');
  t.same(receiver.received.filter((c) => c.headers['x-call-status'] !== 'succeeded')
    .map((c) => `${c.headers['x-call-id']}: ${c.headers['x-call-status']} ${c.headers['x-function-status']}`), [], 'every callback says succeeded');

  const sample = await getCall(routers[0]!.url, midInvocation[0]!);
  t.match(sample, { status: 'succeeded', attempts: [{ error: /lease/ }, { statusCode: 200 }] },
    'the record shows the lost attempt (lease lapsed) and the one that succeeded');
  const duplicates = receiver.received.length - got.size;
  t.comment(`${twice.length} calls invoked twice (all the victim's), ${duplicates} duplicate callbacks; `
    + `all called back ${lastCallback - killedAt} ms after the kill; survivors ran ${survivorFns.map((u) => u.total()).join(' / ')}`);

  for (const w of survivors) t.equal(await w.stop('SIGTERM'), 0, 'survivor stops cleanly');
});
