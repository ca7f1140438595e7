import type { Config } from '../../config/table.js';
import type { AppBinding } from '../../http/adapters/adapter.js';

export interface WorkerContext {
  readonly app: AppBinding;
  readonly config: Config;
  /** Inherited listener fds. */
  readonly fds: readonly number[];
}

/** A worker that is accepting on every listener. */
export interface RunningWorker {
  /** Stop accepting, finish in-flight requests, close idle connections; resolves when nothing is left. */
  drain(): Promise<void>;
}

export interface WorkerClass {
  start(ctx: WorkerContext): Promise<RunningWorker>;
}
