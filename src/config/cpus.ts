import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function readQuota(): number | undefined {
  try {
    // cgroup v2: "max 100000" or "<quota> <period>"
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (quota && quota !== 'max' && period) return Number(quota) / Number(period);
  } catch {}
  try {
    const quota = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8'));
    const period = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8'));
    if (quota > 0 && period > 0) return quota / period;
  } catch {}
  return undefined;
}

/**
 * CPUs this process may really use. os.availableParallelism() honours the affinity mask but, on Node 20,
 * not a container's CPU quota, so a pod limited to 2 CPUs on a 64-core node would start 64 workers.
 */
export function availableCpus(): number {
  const cpus = availableParallelism();
  const quota = readQuota();
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)));
}
