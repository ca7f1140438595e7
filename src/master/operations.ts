/**
 * What operators reach besides signals: the control socket's commands, --drain-delay before a graceful stop,
 * and --reload's file watcher. Every action is queued on the arbiter like a signal.
 */
import type { Config } from '../config/table.js';
import type { ControlRequest, StatsView } from '../control/protocol.js';
import type { WorkerStats } from '../ipc/messages.js';
import { log } from '../logging/logger.js';
import { formatAddress } from '../sockets/address.js';
import type { Listener } from '../sockets/listeners.js';
import type { Arbiter } from './arbiter.js';
import { ControlServer } from './control.js';
import type { ArbiterObserver } from './observer.js';
import type { MasterSignal } from './signals.js';
import { watchForReload } from './watch.js';
import type { WorkerHandle } from './worker-handle.js';

export type ArbiterControl = Pick<Arbiter, 'workers' | 'target' | 'enqueueSignal' | 'enqueueCommand'>;

export interface OperationsOptions {
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly listeners: readonly Listener[];
}

const noStats: WorkerStats = { requests: 0, inFlight: 0, heapUsed: 0, eventLoopDelayMs: 0 };

export class Operations {
  readonly #options: OperationsOptions;
  #config: Config;
  #arbiter: ArbiterControl | undefined;
  #control: ControlServer | undefined;
  #stopWatching: (() => void) | undefined;
  readonly #stats = new WeakMap<WorkerHandle, WorkerStats>();
  readonly #startedAt = Date.now();
  #reloads = 0;
  readonly #reloadWaiters = new Set<(completed: boolean) => void>();
  /** Readiness fails from the moment a drain is announced; the timer runs out the --drain-delay. */
  #draining = false;
  #drainTimer: NodeJS.Timeout | undefined;

  constructor(options: OperationsOptions) {
    this.#options = options;
    this.#config = options.config;
  }

  readonly observer: Partial<ArbiterObserver> = {
    workerMessage: (w, message) => {
      if (message.type === 'stats') this.#stats.set(w, message.stats);
    },
    // A worker that boots during the delay (a crash's replacement) must not say it is ready.
    workerBooted: (w) => {
      if (this.#draining) this.#announce(w);
    },
    reloaded: (config) => {
      this.#config = config;
    },
    reloadFinished: (completed) => {
      if (completed) this.#reloads++;
      for (const resolve of this.#reloadWaiters) resolve(completed);
      this.#reloadWaiters.clear();
    },
  };

  async start(arbiter: ArbiterControl): Promise<void> {
    this.#arbiter = arbiter;
    const { config, env } = this.#options;
    if (!config.noControlSocket) {
      this.#control = await ControlServer.open(config.controlSocket, env, async (request) =>
        this.#command(request),
      );
    }
    if (config.reload) {
      // After --chdir, as the workers resolve the app.
      this.#stopWatching = watchForReload(config.app, config.reloadExtraFiles, process.cwd(), (path) => {
        log.info(`--reload: ${path} changed; reloading`);
        arbiter.enqueueSignal('SIGHUP');
      });
    }
  }

  /** The signal handlers' entry: TERM waits out --drain-delay with readiness failing; the rest go straight on. */
  signal(signal: MasterSignal): void {
    const arbiter = this.#arbiter!;
    if (signal === 'SIGTERM' && this.#config.drainDelay > 0 && this.#drainTimer === undefined) {
      log.info(
        `Received TERM: readiness answers 503 for ${this.#config.drainDelay} s (--drain-delay) before the workers drain`,
      );
      this.#drain(() => arbiter.enqueueSignal('SIGTERM'));
      return;
    }
    // A second TERM, or a quick stop, does not wait for the delay.
    if (signal === 'SIGTERM' || signal === 'SIGINT' || signal === 'SIGQUIT') clearTimeout(this.#drainTimer);
    arbiter.enqueueSignal(signal);
  }

  async close(): Promise<void> {
    clearTimeout(this.#drainTimer);
    this.#stopWatching?.();
    await this.#control?.close();
  }

  #announce(w: WorkerHandle): void {
    try {
      w.process.send({ type: 'draining' }, undefined, undefined, () => {});
    } catch {
      // Its channel is closed: it is on its way out anyway.
    }
  }

  #drain(then: () => void): void {
    this.#draining = true;
    for (const w of this.#arbiter!.workers) this.#announce(w);
    this.#drainTimer = setTimeout(then, this.#config.drainDelay * 1000);
  }

  #command({ command, args }: ControlRequest): Promise<unknown> | unknown {
    const arbiter = this.#arbiter!;
    const arity = (n: number, usage: string) => {
      if (args.length > n) throw new Error(`usage: ${usage}`);
    };
    switch (command) {
      case 'stats':
        arity(0, 'stats');
        return this.#statsView();
      case 'config':
        arity(0, 'config');
        return this.#config;
      case 'reload':
        arity(0, 'reload');
        this.#draining = false;
        return this.#reload();
      case 'scale': {
        arity(1, 'scale N | +N | -N');
        const m = /^([+-]?)(\d+)$/.exec(args[0] ?? '');
        if (!m) throw new Error('usage: scale N | +N | -N (e.g. scale 4, scale +1)');
        const n = Number(m[2]);
        const target = m[1] === '+' ? arbiter.target + n : m[1] === '-' ? arbiter.target - n : n;
        if (target < 1)
          throw new Error(`cannot scale to ${target} workers: at least 1 (use drain to stop serving)`);
        this.#draining = false;
        arbiter.enqueueCommand({ kind: 'scale', target });
        return { workers: target, was: arbiter.target };
      }
      case 'drain':
        arity(0, 'drain');
        if (this.#drainTimer === undefined) {
          log.info(
            `Draining: readiness answers 503 for ${this.#config.drainDelay} s, then every worker drains`,
          );
          this.#drain(() => arbiter.enqueueCommand({ kind: 'scale', target: 0 }));
        }
        return { drainDelay: this.#config.drainDelay };
      case 'kill': {
        arity(1, 'kill PID');
        const pid = Number(args[0]);
        const pids = arbiter.workers.filter((w) => w.serving).map((w) => w.pid);
        if (!pids.includes(pid)) {
          throw new Error(
            `no serving worker has pid ${args[0] ?? '(none given)'}; workers: ${pids.join(', ')}`,
          );
        }
        arbiter.enqueueCommand({ kind: 'stop-worker', pid });
        return { stopping: pid };
      }
      case 'reopen-logs':
        arity(0, 'reopen-logs');
        arbiter.enqueueSignal('SIGUSR1');
        return { reopened: true };
      case 'shutdown': {
        arity(1, 'shutdown [graceful|quick]');
        const mode = args[0] ?? 'graceful';
        if (mode !== 'graceful' && mode !== 'quick') throw new Error('usage: shutdown [graceful|quick]');
        this.signal(mode === 'graceful' ? 'SIGTERM' : 'SIGQUIT');
        return { shutdown: mode };
      }
      default:
        throw new Error(
          `unknown command ${JSON.stringify(command)}; commands: stats, reload, scale, drain, kill, reopen-logs, shutdown, config`,
        );
    }
  }

  /** Resolves when the reload ends, with whether the new generation serves. */
  #reload(): Promise<{ completed: boolean }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.#reloadWaiters.delete(done);
          reject(new Error('the reload did not finish in time; see the error log'));
        },
        (this.#config.bootTimeout + 10) * 1000,
      );
      const done = (completed: boolean) => {
        clearTimeout(timer);
        resolve({ completed });
      };
      this.#reloadWaiters.add(done);
      this.#arbiter!.enqueueSignal('SIGHUP');
    });
  }

  #statsView(): StatsView {
    const arbiter = this.#arbiter!;
    const now = Date.now();
    const workers = arbiter.workers.map((w) => {
      const stats = this.#stats.get(w) ?? noStats;
      return {
        pid: w.pid,
        id: w.id,
        age: w.age,
        generation: w.generation,
        class: this.#config.workerClass,
        state: w.state,
        requests: stats.requests,
        inFlight: stats.inFlight,
        rss: w.rss,
        heapUsed: stats.heapUsed,
        eventLoopDelayMs: stats.eventLoopDelayMs,
        uptimeS: Math.round((now - w.spawnedAt) / 100) / 10,
      };
    });
    const ready = workers.filter((w) => w.state === 'ready').map((w) => w.generation);
    return {
      master: {
        pid: process.pid,
        generation: ready.length ? Math.max(...ready) : 1,
        app: this.#config.app,
        workerClass: this.#config.workerClass,
        target: arbiter.target,
        listeners: this.#options.listeners.map((l) =>
          formatAddress(l.address, Boolean(this.#config.certfile)),
        ),
        controlSocket: this.#control?.path,
        reloads: this.#reloads,
        draining: this.#draining,
        uptimeS: Math.round((now - this.#startedAt) / 100) / 10,
      },
      workers,
    };
  }
}
