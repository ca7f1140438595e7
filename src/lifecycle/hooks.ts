/**
 * Server hooks: functions a config file may define, named `before*` / `after*` / `on*`. Each runs isolated —
 * a hook that throws or rejects is logged and the server carries on — so a config mistake never kills the
 * master. The table below is the source of docs/hooks.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/table.js';
import { log } from '../logging/logger.js';

/** The master as hooks see it. */
export interface ServerInfo {
  readonly pid: number;
  readonly config: Config;
}

/** One worker: in master hooks the master's view of it, in worker hooks the worker itself. */
export interface WorkerInfo {
  /** Absent in `beforeFork`: the process does not exist yet. */
  readonly pid?: number;
  /** Stable slot 0…N-1 (TSUNICORN_WORKER_ID). */
  readonly id: number;
  readonly age: number;
  readonly generation: number;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/**
 * A logger that replaces the error log (pino, winston, …): any missing level falls back to the next one that
 * exists, and `warn`/`fatal` are accepted for `warning`/`critical`.
 */
export interface CustomLogger {
  debug?(message: string): unknown;
  info?(message: string): unknown;
  warn?(message: string): unknown;
  warning?(message: string): unknown;
  error?(message: string): unknown;
  fatal?(message: string): unknown;
  critical?(message: string): unknown;
}

type Result = void | Promise<void>;

export interface Hooks {
  onStarting?(server: ServerInfo): Result;
  onReady?(server: ServerInfo): Result;
  onReload?(server: ServerInfo): Result;
  beforeFork?(server: ServerInfo, worker: WorkerInfo): Result;
  afterFork?(worker: WorkerInfo): Result;
  afterWorkerBoot?(worker: WorkerInfo): Result;
  onWorkerInterrupt?(worker: WorkerInfo): Result;
  onWorkerAbort?(server: ServerInfo, worker: WorkerInfo): Result;
  beforeReexec?(server: ServerInfo): Result;
  beforeRequest?(worker: WorkerInfo, req: IncomingMessage): void;
  afterRequest?(worker: WorkerInfo, req: IncomingMessage, res: ServerResponse, durationMs: number): void;
  onChildExit?(server: ServerInfo, worker: WorkerInfo, exit: WorkerExit): Result;
  onWorkerExit?(worker: WorkerInfo): Result;
  onWorkerCountChange?(server: ServerInfo, newCount: number, oldCount: number): Result;
  onExit?(server: ServerInfo): Result;
}

export type HookName = keyof Hooks;

export interface HookDoc {
  readonly process: 'master' | 'worker';
  readonly signature: string;
  readonly gunicorn: string;
  readonly when: string;
}

export const hookDocs: Readonly<Record<HookName, HookDoc>> = {
  onStarting: {
    process: 'master',
    signature: '(server)',
    gunicorn: 'on_starting',
    when: 'Once, before the master binds its sockets.',
  },
  onReady: {
    process: 'master',
    signature: '(server)',
    gunicorn: 'when_ready',
    when: 'Once the sockets are bound, just before the first workers are spawned.',
  },
  onReload: {
    process: 'master',
    signature: '(server)',
    gunicorn: 'on_reload',
    when: 'On HUP, after the config file was re-read and before the new generation is spawned. `server.config` is the new configuration.',
  },
  beforeFork: {
    process: 'master',
    signature: '(server, worker)',
    gunicorn: 'pre_fork',
    when: 'Just before a worker process is spawned; `worker.pid` is not known yet.',
  },
  afterFork: {
    process: 'worker',
    signature: '(worker)',
    gunicorn: 'post_fork',
    when: 'First thing in a new worker, before it loads the app. Workers are spawned, not forked: the worker imports the config file itself.',
  },
  afterWorkerBoot: {
    process: 'worker',
    signature: '(worker)',
    gunicorn: 'post_worker_init',
    when: 'In a worker once the app is loaded and the worker accepts connections, just before it reports `booted`.',
  },
  onWorkerInterrupt: {
    process: 'worker',
    signature: '(worker)',
    gunicorn: 'worker_int',
    when: 'In a worker that received INT or QUIT (quick stop), before it exits.',
  },
  onWorkerAbort: {
    process: 'master',
    signature: '(server, worker)',
    gunicorn: 'worker_abort',
    when: 'When the master aborts a worker that stayed silent past `timeout`. It runs in the master because a hung worker cannot run JavaScript.',
  },
  beforeReexec: {
    process: 'master',
    signature: '(server)',
    gunicorn: 'pre_exec',
    when: 'On USR2, just before the master starts its replacement.',
  },
  beforeRequest: {
    process: 'worker',
    signature: '(worker, req)',
    gunicorn: 'pre_request',
    when: 'In the worker, before the app sees a request. Synchronous: a returned promise is not awaited.',
  },
  afterRequest: {
    process: 'worker',
    signature: '(worker, req, res, durationMs)',
    gunicorn: 'post_request',
    when: 'In the worker, once the response has been sent (or the connection closed), with the time taken in milliseconds.',
  },
  onChildExit: {
    process: 'master',
    signature: '(server, worker, { code, signal })',
    gunicorn: 'child_exit',
    when: 'In the master, just after a worker process exited, for whatever reason.',
  },
  onWorkerExit: {
    process: 'worker',
    signature: '(worker)',
    gunicorn: 'worker_exit',
    when: 'In a worker that finished draining (TERM, reload, scale-down), just before it exits.',
  },
  onWorkerCountChange: {
    process: 'master',
    signature: '(server, newCount, oldCount)',
    gunicorn: 'nworkers_changed',
    when: 'In the master when the target number of workers changes (TTIN, TTOU, a reload with a new `workers`).',
  },
  onExit: {
    process: 'master',
    signature: '(server)',
    gunicorn: 'on_exit',
    when: 'In the master, just before it exits.',
  },
};

export const hookNames = Object.keys(hookDocs) as HookName[];

/**
 * The hooks of the current config file. The master replaces them on HUP; every call goes through `run`, which
 * never throws.
 */
export class HookRunner {
  #hooks: Hooks;

  constructor(hooks: Hooks = {}) {
    this.#hooks = hooks;
  }

  replace(hooks: Hooks): void {
    this.#hooks = hooks;
  }

  has(name: HookName): boolean {
    return typeof this.#hooks[name] === 'function';
  }

  /** Runs a hook if defined; resolves when it settles. A throw or rejection is logged, never propagated. */
  run<N extends HookName>(name: N, ...args: Parameters<NonNullable<Hooks[N]>>): Promise<void> {
    const hook = this.#hooks[name] as ((...a: unknown[]) => unknown) | undefined;
    if (!hook) return Promise.resolve();
    const failed = (err: unknown) => log.exception(`Hook ${name} failed`, err);
    try {
      const result = hook(...args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return (result as Promise<unknown>).then(() => undefined, failed);
      }
    } catch (err) {
      failed(err);
    }
    return Promise.resolve();
  }
}
