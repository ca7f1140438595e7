import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { parseEnv } from 'node:util';
import type { Config } from '../config/table.js';
import { isWorkerMessage, type RecycleReason, WORKER_BOOT_ENV, type WorkerBoot } from '../ipc/messages.js';
import { ExitCode, haltReason } from '../lifecycle/exit-codes.js';
import type { StopReason } from '../lifecycle/states.js';
import { log, reopenLogFiles } from '../logging/logger.js';
import type { Listener } from '../sockets/listeners.js';
import { Dispatcher } from './dispatcher.js';
import type { ArbiterObserver } from './observer.js';
import type { ProcessOps, WorkerProcess } from './process-ops.js';
import type { MasterSignal } from './signals.js';
import { WorkerHandle } from './worker-handle.js';

export interface ArbiterOptions {
  readonly config: Config;
  readonly listeners: readonly Listener[];
  readonly ops: ProcessOps;
  /** The worker entry module, run with `node`. */
  readonly workerEntry: string;
  /** The environment workers start from (the master's own, as it was at start). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Re-reads the configuration on HUP; a rejection keeps the current one. */
  readonly reloadConfig: () => Promise<Config>;
  /** Hooks, statsd and metrics follow the supervision through it. */
  readonly observer?: ArbiterObserver;
  /** USR2: starts a new master on the same listeners (binary upgrade). */
  readonly reexec?: () => void;
  /** A terminal sends WINCH whenever it is resized: then WINCH must not stop the workers. */
  readonly hasTerminal?: boolean;
}

/** What an operator asks over the control socket besides what signals already say. */
export type ArbiterCommand =
  | { readonly kind: 'scale'; readonly target: number }
  | { readonly kind: 'stop-worker'; readonly pid: number };

type ArbiterEvent =
  | { readonly kind: 'signal'; readonly signal: MasterSignal }
  | { readonly kind: 'command'; readonly command: ArbiterCommand }
  /** A HUP that came during a reload, run once that reload ended. */
  | { readonly kind: 'reload' }
  | { readonly kind: 'booted'; readonly worker: WorkerHandle }
  | { readonly kind: 'recycle'; readonly worker: WorkerHandle; readonly reason: RecycleReason }
  | {
      readonly kind: 'exit';
      readonly worker: WorkerHandle;
      readonly code: number | null;
      readonly signal: string | null;
    };

/** How long a quick stop (INT, QUIT, halt) waits for workers before SIGKILL. */
const QUICK_STOP_MS = 2000;
/** How long the master waits for SIGKILLed workers to be reaped before it exits anyway. */
const REAP_WAIT_MS = 5000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A worker that dies this soon after booting failed to boot (it never really served). */
const EARLY_EXIT_MS = 5000;
/** Failed boots are counted over this window against --max-boot-failures. */
const BOOT_FAILURE_WINDOW_MS = 60_000;
/** After this long without a failed boot, the back-off starts again from its first step. */
const BACKOFF_RESET_MS = 30_000;
/** SIGKILL follows SIGABRT this long after a timeout. */
const ABORT_GRACE_MS = 1000;
/** Consecutive heartbeats over --max-worker-memory before recycling: one spike is not a leak. */
const MEMORY_SAMPLES = 3;

/**
 * The supervisor. Signal handlers and child events only enqueue; one loop dispatches them, then manages
 * the worker count, as Gunicorn's arbiter does.
 */
export class Arbiter {
  #config: Config;
  readonly #options: ArbiterOptions;
  readonly #ops: ProcessOps;
  readonly #observer: Partial<ArbiterObserver>;
  readonly #workers = new Set<WorkerHandle>();
  /** Routes connections that full workers hand off. */
  readonly #dispatcher = new Dispatcher();
  #target: number;
  /** The generation that manageWorkers keeps at the target count. */
  #generation = 1;
  #lastGeneration = 1;
  /** A reload in progress: its generation and how many workers it must boot. */
  #pending: { generation: number; size: number } | undefined;
  /** A HUP came while #pending: reload again when it ends, so the code on disk by then is what serves. */
  #reloadAgain = false;
  #nextAge = 1;
  readonly #events: ArbiterEvent[] = [];
  #wake: (() => void) | undefined;
  #stopping: { deadline: number; killedAt?: number; code: number; graceful: boolean } | undefined;
  #everBooted = false;
  /** Every worker of the first generation has booted once. */
  #started = false;
  /** When recent boots failed, for the back-off and the --max-boot-failures window. */
  #bootFailures: number[] = [];
  #nextSpawnAt = 0;

  constructor(options: ArbiterOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#ops = options.ops;
    this.#observer = options.observer ?? {};
    this.#target = options.config.workers;
  }

  /** Safe to call from a signal handler: it only enqueues. */
  enqueueSignal(signal: MasterSignal): void {
    this.#push({ kind: 'signal', signal });
  }

  /** Queued like a signal: the loop stays the one place that changes the workers. */
  enqueueCommand(command: ArbiterCommand): void {
    this.#push({ kind: 'command', command });
  }

  get workers(): readonly WorkerHandle[] {
    return [...this.#workers];
  }

  /** The number of workers the loop keeps. */
  get target(): number {
    return this.#target;
  }

  /** Runs until the master should exit; resolves to its exit code. */
  async run(): Promise<number> {
    log.info(`Using worker: ${this.#config.workerClass}`);
    this.#manageWorkers();
    for (;;) {
      await this.#sleep(this.#stopping ? 100 : this.#idleMs());
      for (const event of this.#events.splice(0)) await this.#dispatch(event);
      this.#murderWorkers();
      if (this.#stopping) {
        const code = this.#continueStop();
        if (code !== undefined) return code;
        continue;
      }
      this.#manageWorkers();
    }
  }

  #push(event: ArbiterEvent): void {
    this.#events.push(event);
    this.#wake?.();
  }

  /** Events wake the loop at once; otherwise it looks round once a second, or when a back-off spawn is due. */
  #idleMs(): number {
    const untilSpawn = this.#nextSpawnAt - this.#ops.now();
    return untilSpawn > 0 ? Math.min(untilSpawn, 1000) : 1000;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#events.length) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }

  async #dispatch(event: ArbiterEvent): Promise<void> {
    switch (event.kind) {
      case 'signal':
        return this.#handleSignal(event.signal);
      case 'command':
        return this.#handleCommand(event.command);
      case 'reload':
        return this.#reload();
      case 'booted':
        return this.#onBooted(event.worker);
      case 'recycle':
        return this.#recycle(event.worker, event.reason);
      case 'exit':
        return this.#onExit(event.worker, event.code, event.signal);
    }
  }

  async #handleSignal(signal: MasterSignal): Promise<void> {
    log.info(`Handling signal: ${signal.slice(3).toLowerCase()}`);
    switch (signal) {
      case 'SIGTERM':
        return this.#stop(true, ExitCode.OK);
      case 'SIGINT':
      case 'SIGQUIT':
        return this.#stop(false, ExitCode.OK);
      case 'SIGHUP':
        return this.#reload();
      case 'SIGTTIN':
        return this.#setTarget(this.#target + 1);
      case 'SIGTTOU':
        return this.#setTarget(Math.max(1, this.#target - 1));
      case 'SIGUSR1':
        reopenLogFiles();
        for (const w of this.#workers) w.process.kill('SIGUSR1');
        return;
      case 'SIGUSR2':
        return this.#options.reexec?.();
      case 'SIGWINCH':
        if (this.#options.hasTerminal) {
          log.info('WINCH ignored: the master has a terminal, which sends WINCH when it is resized');
          return;
        }
        // The second step of a binary upgrade: the new master's workers serve, these drain. The listeners
        // stay open, so HUP can start workers again (a rollback).
        log.info('Stopping all workers; the listeners stay open (HUP starts workers again)');
        return this.#setTarget(0);
    }
  }

  #handleCommand(command: ArbiterCommand): void {
    if (this.#stopping) return;
    switch (command.kind) {
      case 'scale':
        this.#setTarget(command.target);
        return;
      case 'stop-worker': {
        // Stopped gracefully as in a scale-down; manageWorkers then starts its replacement.
        const w = [...this.#workers].find((x) => x.pid === command.pid && x.serving);
        if (w) this.#signalWorker(w, 'SIGTERM', 'scale-down');
        return;
      }
    }
  }

  #setTarget(target: number): void {
    const old = this.#target;
    this.#target = target;
    log.info(`Number of workers: ${target}`);
    if (target !== old) this.#observer.targetChanged?.(target, old);
  }

  #signalWorker(w: WorkerHandle, signal: NodeJS.Signals, reason: StopReason): void {
    w.stopReason ??= reason;
    w.transition('draining');
    this.#dispatcher.drain(w);
    try {
      w.process.kill(signal);
    } catch {
      // Already gone: its exit event is on the way.
    }
  }

  #stop(graceful: boolean, code: number): void {
    const now = this.#ops.now();
    const wait = graceful ? this.#config.gracefulTimeout * 1000 : QUICK_STOP_MS;
    if (this.#stopping && (this.#stopping.graceful === graceful || !this.#stopping.graceful)) return;
    for (const w of this.#workers) {
      this.#signalWorker(w, graceful ? 'SIGTERM' : 'SIGQUIT', graceful ? 'shutdown' : 'quick-shutdown');
    }
    if (!this.#stopping) this.#observer.stopping?.();
    this.#stopping = {
      deadline: Math.min(this.#stopping?.deadline ?? Number.POSITIVE_INFINITY, now + wait),
      code,
      graceful,
    };
  }

  /** One step of stopping; the exit code once every worker is gone (or could not be reaped). */
  #continueStop(): number | undefined {
    const stopping = this.#stopping!;
    if (this.#workers.size === 0) return stopping.code;
    const now = this.#ops.now();
    if (stopping.killedAt === undefined && now >= stopping.deadline) {
      for (const w of this.#workers) {
        log.warning(`Worker (pid:${w.pid}) still running after the stop timeout; sending SIGKILL`);
        w.process.kill('SIGKILL');
      }
      stopping.killedAt = now;
    } else if (stopping.killedAt !== undefined && now - stopping.killedAt > REAP_WAIT_MS) {
      log.error(`Gave up waiting for ${this.#workers.size} killed worker(s)`);
      return stopping.code;
    }
    return undefined;
  }

  #halt(code: number): void {
    log.error(`Reason: ${haltReason(code)}`);
    this.#stop(false, code);
  }

  async #reload(): Promise<void> {
    if (this.#stopping) return;
    if (this.#pending) {
      // Not ignored: the new generation may have imported the app before a deploy finished writing it.
      log.info('A reload is already in progress; reloading again once it ends');
      this.#reloadAgain = true;
      return;
    }
    try {
      this.#config = await this.#options.reloadConfig();
    } catch (err) {
      log.error(`Reload aborted: the configuration is invalid: ${(err as Error).message}`);
      return;
    }
    this.#observer.reloaded?.(this.#config);
    if (this.#config.workers !== this.#target) this.#setTarget(this.#config.workers);
    const generation = ++this.#lastGeneration;
    this.#pending = { generation, size: this.#target };
    log.info(`Reloading: starting generation ${generation} (${this.#target} workers)`);
    for (let i = 0; i < this.#target; i++) this.#spawn(generation);
  }

  #onBooted(w: WorkerHandle): void {
    if (!w.transition('ready')) return;
    w.bootedAt = this.#ops.now();
    this.#everBooted = true;
    this.#observer.workerBooted?.(w);
    log.debug(`Worker (pid:${w.pid}) booted in ${Math.round(w.bootedAt - w.spawnedAt)} ms`);
    const old = w.replaces;
    if (old?.serving) {
      log.info(`Worker (pid:${old.pid}) recycled (${old.recycleReason}); replaced by pid ${w.pid}`);
      this.#signalWorker(old, 'SIGTERM', old.recycleReason!);
    }
    const pending = this.#pending;
    if (pending && w.generation === pending.generation) {
      const fresh = [...this.#workers].filter((x) => x.generation === pending.generation && x.serving);
      if (fresh.length >= pending.size && fresh.every((x) => x.state === 'ready')) {
        // The whole new generation is accepting: only now do the old workers drain. Draining them one by
        // one as each new worker boots would leave a half-replaced server if a later boot failed, and the
        // old code can no longer be re-spawned from disk.
        for (const old of this.#workers) {
          if (old.generation !== pending.generation && old.serving)
            this.#signalWorker(old, 'SIGTERM', 'reload');
        }
        this.#generation = pending.generation;
        this.#pending = undefined;
        log.info(`Reload complete: generation ${pending.generation} is serving`);
        this.#observer.reloadFinished?.(true);
        this.#reloadIfAsked();
      }
    }
    if (!this.#started) {
      const ready = [...this.#workers].filter(
        (x) => x.generation === this.#generation && x.state === 'ready',
      );
      if (ready.length >= this.#target) {
        this.#started = true;
        this.#observer.started?.();
      }
    }
  }

  #onExit(w: WorkerHandle, code: number | null, signal: string | null): void {
    if (!this.#workers.delete(w)) return;
    w.transition('exited');
    this.#dispatcher.remove(w);
    this.#observer.workerExited?.(w, code, signal);
    const expected = w.stopReason !== undefined;
    if (w.killedFor === 'boot-timeout') {
      log.error(`Worker (pid:${w.pid}) did not boot within ${this.#config.bootTimeout} s and was killed`);
    } else if (signal) {
      const oom = signal === 'SIGKILL' && !expected ? ' Perhaps out of memory?' : '';
      (expected ? log.info : log.error)(`Worker (pid:${w.pid}) was sent ${signal}!${oom}`);
    } else if (code !== 0) {
      (expected ? log.info : log.error)(`Worker (pid:${w.pid}) exited with code ${code}`);
    } else if (!expected) {
      log.warning(`Worker (pid:${w.pid}) exited with code 0`);
    }
    if (this.#stopping || expected || w.killedFor === 'timeout') return;
    const now = this.#ops.now();
    // A booted worker that dies soon after booting failed to boot only if it ended itself (a crash on its
    // first requests or timers); one killed from outside (an operator, the OOM killer) is an ordinary crash.
    if (w.bootedAt !== undefined && (signal || now - w.bootedAt >= EARLY_EXIT_MS)) return;

    // It never booted, or died right after: a boot failure.
    if (this.#pending && w.generation === this.#pending.generation) {
      this.#abortReload(code);
    } else if (!this.#everBooted) {
      this.#halt(code === ExitCode.APP_LOAD_ERROR ? ExitCode.APP_LOAD_ERROR : ExitCode.WORKER_BOOT_ERROR);
    } else {
      this.#bootFailed(now);
    }
  }

  /** Back-off between respawns, and a halt once too many boots failed in the window: never a fork storm. */
  #bootFailed(now: number): void {
    this.#bootFailures = [...this.#bootFailures.filter((t) => now - t < BOOT_FAILURE_WINDOW_MS), now];
    const failures = this.#bootFailures.length;
    if (failures >= this.#config.maxBootFailures) {
      log.error(
        `Reason: Worker failed to boot: ${failures} failed boots within ${BOOT_FAILURE_WINDOW_MS / 1000} s ` +
          `(--max-boot-failures ${this.#config.maxBootFailures}).`,
      );
      this.#stop(false, ExitCode.WORKER_BOOT_ERROR);
      return;
    }
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
    this.#nextSpawnAt = now + delay;
    log.warning(
      `Worker failed to boot (${failures} within ${BOOT_FAILURE_WINDOW_MS / 1000} s); next spawn in ${delay} ms`,
    );
  }

  /**
   * Hung workers: a booted worker whose loop has not sent a heartbeat for --timeout gets SIGABRT, then
   * SIGKILL a second later; a worker that does not boot within --boot-timeout is killed.
   */
  #murderWorkers(): void {
    const now = this.#ops.now();
    const timeoutMs = this.#config.timeout * 1000;
    for (const w of this.#workers) {
      if (w.killedFor === 'timeout') {
        if (w.abortedAt !== undefined && now - w.abortedAt >= ABORT_GRACE_MS) {
          this.#kill(w, 'SIGKILL');
          w.abortedAt = undefined;
        }
      } else if (w.killedFor) {
        // Killed for a slow boot; its exit is on the way.
      } else if (!w.booted) {
        if (now - w.spawnedAt > this.#config.bootTimeout * 1000) {
          w.killedFor = 'boot-timeout';
          this.#kill(w, 'SIGKILL');
        }
      } else if (timeoutMs > 0 && now - w.lastHeartbeat > timeoutMs) {
        log.critical(`WORKER TIMEOUT (pid:${w.pid})`);
        w.killedFor = 'timeout';
        w.abortedAt = now;
        this.#observer.workerAborted?.(w);
        this.#kill(w, 'SIGABRT');
      }
    }
  }

  #kill(w: WorkerHandle, signal: NodeJS.Signals): void {
    try {
      w.process.kill(signal);
    } catch {
      // Already gone: its exit event is on the way.
    }
  }

  /** Marks a worker for replacement; manageWorkers spawns the replacement, which drains it once booted. */
  #recycle(w: WorkerHandle, reason: RecycleReason): void {
    if (!w.serving || w.recycleReason || w.generation !== this.#generation) return;
    w.recycleReason = reason;
  }

  #sampleMemory(w: WorkerHandle, rss: number): void {
    w.rss = rss;
    const limit = this.#config.maxWorkerMemory * 1024 * 1024;
    if (!limit) return;
    w.samplesOverMemory = rss > limit ? w.samplesOverMemory + 1 : 0;
    if (w.samplesOverMemory === MEMORY_SAMPLES && !w.recycleReason) {
      log.warning(
        `Worker (pid:${w.pid}) uses ${(rss / 1048576).toFixed(0)} MiB, over --max-worker-memory ` +
          `${this.#config.maxWorkerMemory} MiB for ${MEMORY_SAMPLES} samples; recycling it`,
      );
      this.#recycle(w, 'memory');
    }
  }

  #abortReload(code: number | null): void {
    const generation = this.#pending!.generation;
    const why =
      code === ExitCode.APP_LOAD_ERROR ? 'the app failed to load' : `a worker exited with code ${code}`;
    log.error(
      `Reload aborted: generation ${generation} failed to boot (${why}); the old workers keep serving`,
    );
    for (const w of this.#workers) {
      if (w.generation === generation && w.serving) this.#signalWorker(w, 'SIGTERM', 'reload-aborted');
    }
    this.#pending = undefined;
    this.#observer.reloadFinished?.(false);
    this.#reloadIfAsked();
  }

  #reloadIfAsked(): void {
    if (!this.#reloadAgain) return;
    this.#reloadAgain = false;
    this.#push({ kind: 'reload' });
  }

  #manageWorkers(): void {
    const now = this.#ops.now();
    const lastFailure = this.#bootFailures.at(-1);
    if (lastFailure !== undefined && now - lastFailure > BACKOFF_RESET_MS) this.#bootFailures = [];
    // While a reload is pending the old generation is on its way out: scaling it to the new target would
    // only spawn workers that are drained a moment later. A stuck reload ends by --boot-timeout.
    if (this.#pending) return;
    const serving = [...this.#workers].filter((w) => w.serving && w.generation === this.#generation);
    // A worker being recycled does not count: its replacement does.
    const counted = serving.filter((w) => !w.recycleReason);
    const missing = this.#target - counted.length;
    if (missing > 0) {
      if (now < this.#nextSpawnAt) return;
      // After a boot failure, one at a time: a broken app must not become a fork storm.
      let budget = this.#bootFailures.length > 0 ? 1 : missing;
      const unreplaced = serving.filter((w) => w.recycleReason && !serving.some((x) => x.replaces === w));
      for (const old of unreplaced) if (budget-- > 0) this.#spawn(this.#generation, old);
      while (budget-- > 0) this.#spawn(this.#generation);
    } else if (missing < 0) {
      const oldest = counted.sort((a, b) => a.age - b.age).slice(0, -missing);
      for (const w of oldest) this.#signalWorker(w, 'SIGTERM', 'scale-down');
    }
  }

  /** The lowest slot not held by a serving worker of the generation (PM2's NODE_APP_INSTANCE). */
  #freeSlot(generation: number): number {
    const used = new Set(
      [...this.#workers].filter((w) => w.serving && w.generation === generation).map((w) => w.id),
    );
    let id = 0;
    while (used.has(id)) id++;
    return id;
  }

  #workerEnv(boot: WorkerBoot): Record<string, string | undefined> {
    let fromFile: Record<string, string> = {};
    if (this.#config.envFile) {
      try {
        fromFile = parseEnv(readFileSync(this.#config.envFile, 'utf8')) as Record<string, string>;
      } catch (err) {
        log.error(`Cannot read --env-file ${this.#config.envFile}: ${(err as Error).message}`);
      }
    }
    return {
      ...this.#options.env,
      ...fromFile,
      ...this.#config.env,
      TSUNICORN_WORKER_ID: String(boot.id),
      TSUNICORN_GENERATION: String(boot.generation),
      [WORKER_BOOT_ENV]: JSON.stringify(boot),
    };
  }

  /** Spawns a worker of the generation; a replacement takes the slot of the worker it replaces. */
  #spawn(generation: number, replaces?: WorkerHandle): void {
    const { listeners } = this.#options;
    const boot: WorkerBoot = {
      id: replaces?.id ?? this.#freeSlot(generation),
      age: this.#nextAge++,
      generation,
      masterPid: process.pid,
      fds: listeners.map((_, i) => 3 + i),
      config: this.#config,
    };
    this.#observer.beforeSpawn?.(boot);
    let proc: WorkerProcess;
    try {
      proc = this.#ops.spawn({
        entry: this.#options.workerEntry,
        nodeOptions: this.#config.nodeOptions,
        env: this.#workerEnv(boot),
        fds: listeners.map((l) => l.fd),
      });
    } catch (err) {
      log.error(`Cannot start a worker: ${(err as Error).message}`);
      return;
    }
    const w = new WorkerHandle({ ...boot, process: proc, now: this.#ops.now() });
    w.replaces = replaces;
    this.#workers.add(w);
    proc.once('spawn', () => w.transition('booting'));
    proc.on('error', (err: Error) => {
      log.error(`Worker (pid:${proc.pid}) process error: ${err.message}`);
      // A process that never started emits no 'exit'.
      if (proc.pid === undefined)
        this.#push({ kind: 'exit', worker: w, code: ExitCode.WORKER_BOOT_ERROR, signal: null });
    });
    proc.on('message', (message: unknown, handle: unknown) => {
      if (!isWorkerMessage(message)) return;
      switch (message.type) {
        case 'heartbeat':
          w.lastHeartbeat = this.#ops.now();
          return this.#sampleMemory(w, message.rss);
        case 'recycle':
          return this.#push({ kind: 'recycle', worker: w, reason: message.reason });
        case 'booted':
          return this.#push({ kind: 'booted', worker: w });
        case 'capacity':
          if (w.serving) this.#dispatcher.capacity(w, message.free, message.queues);
          return;
        case 'handoff':
          this.#observer.workerMessage?.(w, message);
          return this.#dispatcher.handoff(handle as Socket);
        case 'stop-routing':
          return this.#dispatcher.stopRouting(w);
        case 'metrics':
        case 'stats':
          return this.#observer.workerMessage?.(w, message);
        default:
          message satisfies never;
      }
    });
    proc.once('exit', (code: number | null, signal: string | null) =>
      this.#push({ kind: 'exit', worker: w, code, signal }),
    );
    log.info(`Booting worker with pid: ${proc.pid}`);
  }
}
