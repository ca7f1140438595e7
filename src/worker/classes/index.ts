import type { WorkerClassName } from '../../config/worker-classes.js';
import type { WorkerClass } from './worker-class.js';

/**
 * Keyed by the names in config/worker-classes.ts; the type makes a missing implementation a build error.
 * Each is imported when a worker runs it, so an async worker does not load worker_threads for the threads
 * class (boot time).
 */
export const workerClasses: Record<WorkerClassName, () => Promise<WorkerClass>> = {
  sync: async () => (await import('./sync.js')).syncWorker,
  threads: async () => (await import('./threads.js')).threadsWorker,
  async: async () => (await import('./async.js')).asyncWorker,
};
