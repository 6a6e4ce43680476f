// `workers=auto`: the cores this process may use. os.availableParallelism() counts the CPUs of the host
// (or of the affinity mask); inside a container with a CPU limit (`docker --cpus`, a Kubernetes limit) the
// kernel throttles to the cgroup's quota instead, which Node 20 does not read. So the quota is read here:
// cgroup v2's cpu.max, else cgroup v1's cfs_quota_us / cfs_period_us.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface MachineCores {
  /** Whole cores: the quota rounded down (at least 1), never more than the CPUs the process may run on. */
  readonly cores: number;
  /** Where the figure came from: the quota (which cgroup version) or the CPUs. */
  readonly from: 'cgroup cpu.max' | 'cgroup cfs_quota_us' | 'cpus';
}

/** Reads a file's text, or undefined when it does not exist (a host without that cgroup version). */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
};

/** CPUs the quota allows (fractional), or undefined when there is no limit or no such file. */
function quotaCpus(read: ReadText): { cpus: number; from: MachineCores['from'] } | undefined {
  // v2: "max 100000" (no limit) or "<quota> <period>" in microseconds.
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 !== undefined && v2.length === 2) {
    const [quota, period] = [Number(v2[0]), Number(v2[1])];
    return v2[0] !== 'max' && quota > 0 && period > 0 ? { cpus: quota / period, from: 'cgroup cpu.max' } : undefined;
  }
  // v1: quota -1 is no limit. The controller folder is `cpu` or `cpu,cpuacct` (a link to it on most hosts).
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    const quota = Number(read(`${dir}/cpu.cfs_quota_us`)?.trim());
    const period = Number(read(`${dir}/cpu.cfs_period_us`)?.trim());
    if (Number.isFinite(quota) && Number.isFinite(period)) {
      return quota > 0 && period > 0 ? { cpus: quota / period, from: 'cgroup cfs_quota_us' } : undefined;
    }
  }
  return undefined;
}

/**
 * The cores a process here may use. A fractional quota rounds down (as Go's automaxprocs does): 1.5 CPUs
 * run one process unthrottled, while two would share 1.5 and both be throttled in every period.
 */
export function machineCores(read: ReadText = readText, cpus: number = availableParallelism()): MachineCores {
  const quota = quotaCpus(read);
  if (quota === undefined || quota.cpus >= cpus) return { cores: Math.max(1, cpus), from: 'cpus' };
  return { cores: Math.max(1, Math.floor(quota.cpus)), from: quota.from };
}
