import { availableCpus } from './cpus.js';

/**
 * The worker classes by short name, with the facts the master needs about each. The implementations live
 * on the worker side (src/worker/classes/), keyed by the same names.
 */
export const workerClassInfo = {
  sync: {
    doc: 'one request at a time per worker, keep-alive off',
    defaultWorkers: '2cpu+1',
  },
  threads: {
    doc: '--threads app threads per worker, each one request at a time',
    defaultWorkers: 'cpu',
  },
  async: {
    doc: 'one event loop per worker, up to --worker-connections requests in flight',
    defaultWorkers: 'cpu',
  },
} as const satisfies Record<string, { doc: string; defaultWorkers: 'cpu' | '2cpu+1' }>;

export type WorkerClassName = keyof typeof workerClassInfo;
export const workerClassNames = Object.keys(workerClassInfo) as WorkerClassName[];

export function defaultWorkerCount(name: WorkerClassName): number {
  const cpus = availableCpus();
  return workerClassInfo[name].defaultWorkers === 'cpu' ? cpus : 2 * cpus + 1;
}
