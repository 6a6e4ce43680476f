import t from 'tap';
import { machineCores, type ReadText } from '../../../router/cluster/cores.js';

/** A cgroup tree as files; every other path does not exist. */
const files = (tree: Record<string, string>): ReadText => (path) => tree[path];

t.test('cgroup v2: a quota below the CPUs rounds down, at least 1; "max" is no limit', async (t) => {
  t.same(machineCores(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }), 8), { cores: 2, from: 'cgroup cpu.max' });
  t.same(machineCores(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 8), { cores: 1, from: 'cgroup cpu.max' }, '1.5 CPUs: one process');
  t.same(machineCores(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }), 8), { cores: 1, from: 'cgroup cpu.max' }, 'half a CPU: still one');
  t.same(machineCores(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }), 8), { cores: 8, from: 'cpus' });
  t.same(machineCores(files({ '/sys/fs/cgroup/cpu.max': '1600000 100000\n' }), 4), { cores: 4, from: 'cpus' }, 'a quota above the CPUs: the CPUs');
});

t.test('cgroup v1: cfs_quota_us / cfs_period_us, -1 is no limit; either controller folder', async (t) => {
  const v1 = (dir: string, quota: string): ReadText => files({ [`${dir}/cpu.cfs_quota_us`]: `${quota}\n`, [`${dir}/cpu.cfs_period_us`]: '100000\n' });
  t.same(machineCores(v1('/sys/fs/cgroup/cpu', '300000'), 8), { cores: 3, from: 'cgroup cfs_quota_us' });
  t.same(machineCores(v1('/sys/fs/cgroup/cpu,cpuacct', '100000'), 8), { cores: 1, from: 'cgroup cfs_quota_us' });
  t.same(machineCores(v1('/sys/fs/cgroup/cpu', '-1'), 2), { cores: 2, from: 'cpus' });
});

t.test('no cgroup files: the CPUs, at least 1', async (t) => {
  t.same(machineCores(files({}), 6), { cores: 6, from: 'cpus' });
  t.same(machineCores(files({}), 0), { cores: 1, from: 'cpus' });
  t.ok(machineCores().cores >= 1, 'this machine');
});
