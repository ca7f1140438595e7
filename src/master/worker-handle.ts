import type { RecycleReason } from '../ipc/messages.js';
import { canTransition, type StopReason, type WorkerState } from '../lifecycle/states.js';
import type { WorkerProcess } from './process-ops.js';

/** The master's view of one worker: never the worker's own code (that lives in src/worker/). */
export class WorkerHandle {
  readonly id: number;
  readonly age: number;
  readonly generation: number;
  readonly process: WorkerProcess;
  readonly spawnedAt: number;
  #state: WorkerState = 'spawned';
  bootedAt: number | undefined;
  lastHeartbeat: number;
  /** Set when the master asked the worker to stop; an exit without it is a crash. */
  stopReason: StopReason | undefined;
  /** Set when the worker should be replaced; it serves on until its replacement has booted. */
  recycleReason: RecycleReason | undefined;
  /** The worker this one was spawned to replace (recycling). */
  replaces: WorkerHandle | undefined;
  /** Why the master killed it: a hung loop, or a boot that took too long. */
  killedFor: 'timeout' | 'boot-timeout' | undefined;
  /** When the master sent SIGABRT for a timeout; SIGKILL follows a second later. */
  abortedAt: number | undefined;
  /** Resident memory from the last heartbeat, and how many samples in a row were over the limit. */
  rss = 0;
  samplesOverMemory = 0;

  constructor(init: { id: number; age: number; generation: number; process: WorkerProcess; now: number }) {
    this.id = init.id;
    this.age = init.age;
    this.generation = init.generation;
    this.process = init.process;
    this.spawnedAt = init.now;
    this.lastHeartbeat = init.now;
  }

  get pid(): number {
    return this.process.pid;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Moves along the lifecycle table; a move the table does not allow is ignored (e.g. a late `booted`). */
  transition(to: WorkerState): boolean {
    if (!canTransition(this.#state, to)) return false;
    this.#state = to;
    return true;
  }

  get booted(): boolean {
    return this.bootedAt !== undefined;
  }

  /** Alive and not on its way out: counts towards the configured number of workers. */
  get serving(): boolean {
    return this.#state !== 'draining' && this.#state !== 'exited';
  }
}
