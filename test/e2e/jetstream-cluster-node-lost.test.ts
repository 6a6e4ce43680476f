// A three-node NATS cluster on loopback, the queue URL naming all three with
// replicas=3, one `whippet router` (accept only) and two `whippet worker` processes. The node leading
// the call stream is killed (SIGKILL) during a run of 2,000 calls. Clients post a 503'd call again with
// the same X-Call-Id, as a real client would; every call that got a 202 completes (is called back).
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { requireNats, startNatsCluster, type NatsNode } from '../helpers/nats-server.js';
import { startRouter } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { getCall, startWorkerProcess } from '../helpers/async-calls.js';
import { calledBack, callIds, postCalls, startCountingFunction } from './jetstream-support.js';

const CALLS = 2_000;
const CLIENTS = 16;
const KILL_AT = 500; // accepted calls before the node is killed

/** Kill the node that leads the call stream (the hardest one to lose); returns its name. */
async function killStreamLeader(nodes: readonly NatsNode[]): Promise<string> {
  const nc = await connect({ servers: nodes.map((n) => n.url) });
  try {
    const info = await (await jetstreamManager(nc, { timeout: 2_000 })).streams.info('whippet-calls');
    const leader = info.cluster?.leader ?? 'n1';
    await nodes[Number(leader.slice(1)) - 1]!.kill();
    return leader;
  } finally {
    await nc.close().catch(() => {});
  }
}

t.test('kill the stream leader of a 3-node cluster mid-run: every call that got a 202 completes', { timeout: 115_000 }, async (t) => {
  if (!requireNats(t)) return;
  const nodes = await startNatsCluster(t, 3);
  const queue = `${nodes.map((n) => n.url).join(',')}?replicas=3`;
  const receiver = await startCallbackReceiver(t);
  const fn = await startCountingFunction(t);
  const env = { queue, functions: `fast=${fn.url}`, ack_wait: '4s' };
  const [router, ...workers] = await Promise.all([
    startRouter(t, { ...env, async_worker: 'false' }),
    startWorkerProcess(t, { ...env, max_inflight: '32' }),
    startWorkerProcess(t, { ...env, max_inflight: '32' }),
  ]);

  let killing: Promise<string> | undefined;
  let killedAt = 0;
  const ids = callIds('ha', CALLS);
  const posted = await postCalls({
    routers: [router.url], ids, concurrency: CLIENTS, callbackUrl: `${receiver.url}/cb`, tries: 60, retryDelayMs: 250,
    onAccepted: (n) => {
      if (n >= KILL_AT && killing === undefined) { killedAt = Date.now(); killing = killStreamLeader(nodes); }
    },
  });
  const killed = await killing;
  const refused = [...posted.refused].map(([s, n]) => `${n}x${s || 'connection error'}`).join(' ') || 'none';
  t.comment(`killed stream leader ${killed}; ${posted.accepted.size} accepted in ${posted.ms} ms, answers refused meanwhile: ${refused}`);
  t.ok(killed !== undefined, 'a node was killed mid-run');
  t.same(posted.given, [], 'every call was accepted in the end (posted again after a 503)');
  t.ok([...posted.refused.keys()].every((s) => s === 503 || s === 0), 'the only refusals were 503s (or a dropped connection)');

  const accepted = posted.accepted;
  const delivered = calledBack(receiver.received);
  const waitMs = Math.max(10_000, 100_000 - (Date.now() - killedAt) - 10_000);
  // Calls the test never posted cannot be called back, so the count decides; the sets are compared below.
  await receiver.until(() => delivered().size >= accepted.size, waitMs, `callbacks for all ${accepted.size} accepted calls`)
    .catch((err: Error) => t.fail(err.message));
  const doneIn = Date.now() - killedAt;
  const got = delivered();
  const missing = [...accepted].filter((id) => !got.has(id));
  t.same(missing, [], 'every call that got a 202 was called back');
  for (const id of missing.slice(0, 3)) {
    const r = await getCall(router.url, id).catch(String);
    t.comment(`missing ${id}: ${typeof r === 'object' && r !== null ? JSON.stringify({ ...r, headers: undefined, result: undefined }) : r}`);
  }
  t.same([...accepted].filter((id) => (fn.calls.get(id) ?? 0) === 0), [], 'and was invoked');
  t.ok(receiver.received.every((c) => c.headers['x-call-status'] === 'succeeded'), 'every callback says succeeded');
  const twice = [...fn.calls.values()].filter((n) => n > 1).length;
  t.comment(`all called back ${doneIn} ms after the kill; ${twice} calls invoked more than once, `
    + `${receiver.received.length - got.size} duplicate callbacks (at-least-once across a failover)`);
  for (const w of workers) t.equal(await w.stop('SIGTERM'), 0, 'worker stops cleanly');
  t.equal(await router.stop('SIGTERM'), 0, 'router stops cleanly');
});
