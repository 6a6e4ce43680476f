// The function counts of several router processes add up: invocations, in flight and per-code counts are
// summed, and health and last status come from the process that saw the function last.
import t from 'tap';
import { createFunctionStats } from '../../../router/function-stats.js';
import { createSharedStats, mergeStats, snapshotAll } from '../../../router/cluster/stats.js';

t.test('counts are summed; health is the latest seen', async (t) => {
  const a = createFunctionStats(() => new Date('2026-01-01T00:00:01Z'));
  const b = createFunctionStats(() => new Date('2026-01-01T00:00:02Z'));
  a.started('fn'); a.completed('fn', 200, 'healthy'); a.started('fn'); a.completed('fn', 502, 'unreachable');
  b.started('fn'); b.completed('fn', 200, 'healthy'); b.started('fn'); // one still in flight
  b.started('other'); b.completed('other', 404, 'healthy');
  const merged = mergeStats([snapshotAll(a), snapshotAll(b)]);
  t.same(merged['fn'], { invocationCount: 3, inflight: 1, byCode: { 200: 2, 502: 1 }, health: 'healthy', lastStatus: 200, lastSeen: '2026-01-01T00:00:02.000Z' });
  t.same(Object.keys(merged).sort(), ['fn', 'other']);
  t.same(mergeStats([]), {});
});

t.test('shared stats read the merged view after refresh, their own counts before and when unanswered', async (t) => {
  const local = createFunctionStats();
  let answer: ReturnType<typeof mergeStats> | undefined = { fn: { invocationCount: 10, inflight: 0, byCode: { 200: 10 }, health: 'healthy' } };
  const shared = createSharedStats(local, async () => answer);
  shared.started('fn'); shared.completed('fn', 200, 'healthy');
  t.equal(shared.get('fn')?.invocationCount, 1, 'own counts before any refresh');
  await shared.refresh();
  t.equal(shared.get('fn')?.invocationCount, 10, 'the whole router after a refresh');
  t.equal(shared.own()['fn']?.invocationCount, 1, "own() stays this process's counts");
  answer = undefined;
  await shared.refresh();
  t.equal(shared.get('fn')?.invocationCount, 1, 'unanswered: own counts again');
});
