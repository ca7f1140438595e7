import type { Config } from '../../config/table.js';
import type { AppBinding } from '../../http/adapters/adapter.js';

export interface WorkerContext {
  /**
   * Imports and binds the app in the calling thread. A class that runs the app elsewhere (threads) does not
   * call it: the worker's main thread then never runs app code, not even its top-level statements.
   */
  readonly loadApp: () => Promise<AppBinding>;
  readonly config: Config;
  /** Inherited listener fds. */
  readonly fds: readonly number[];
}

/** A worker that is accepting on every listener. */
export interface RunningWorker {
  /** Stop accepting, finish in-flight requests, close idle connections; resolves when nothing is left. */
  drain(): Promise<void>;
  /**
   * False while part of the worker is stuck where the main loop's heartbeat cannot see it (a hung thread);
   * the worker then stops heartbeating, so the master's timeout replaces it as it would a hung main loop.
   */
  healthy(): boolean;
}

export interface WorkerClass {
  start(ctx: WorkerContext): Promise<RunningWorker>;
}
