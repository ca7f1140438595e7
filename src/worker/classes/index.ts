import type { WorkerClassName } from '../../config/worker-classes.js';
import { asyncWorker } from './async.js';
import { syncWorker } from './sync.js';
import { threadsWorker } from './threads.js';
import type { WorkerClass } from './worker-class.js';

/** Keyed by the names in config/worker-classes.ts; the type makes a missing implementation a build error. */
export const workerClasses: Record<WorkerClassName, WorkerClass> = {
  sync: syncWorker,
  threads: threadsWorker,
  async: asyncWorker,
};
