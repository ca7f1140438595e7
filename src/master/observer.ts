import type { Config } from '../config/table.js';
import type { WorkerMessage } from '../ipc/messages.js';
import type { WorkerHandle } from './worker-handle.js';

/** The worker a spawn is about to start: its slot and place, not yet a process. */
export interface SpawnPlan {
  readonly id: number;
  readonly age: number;
  readonly generation: number;
}

/**
 * What the arbiter tells the rest of the master — hooks, statsd, Prometheus — as it supervises. Every method
 * is called from the loop and must not throw or block it.
 */
export interface ArbiterObserver {
  beforeSpawn(plan: SpawnPlan): void;
  workerBooted(worker: WorkerHandle): void;
  workerExited(worker: WorkerHandle, code: number | null, signal: string | null): void;
  /** A worker's message the arbiter itself has no use for (metrics, stats), and each handoff, to count it. */
  workerMessage(worker: WorkerHandle, message: WorkerMessage): void;
  /** The worker aborted for silence past `timeout`. */
  workerAborted(worker: WorkerHandle): void;
  targetChanged(newCount: number, oldCount: number): void;
  /** HUP: the new configuration was read and the new generation is starting. */
  reloaded(config: Config): void;
  /** The reload ended: the new generation serves, or it failed to boot and the old one serves on. */
  reloadFinished(completed: boolean): void;
  /** Every worker of the first generation has booted: the server is up (sd_notify READY=1, -D). */
  started(): void;
  /** The master began to stop (TERM, INT, QUIT, or a halt). */
  stopping(): void;
  beforeReexec(): void;
}

/** Fans each event out to several observers. */
export function observers(...all: Partial<ArbiterObserver>[]): ArbiterObserver {
  const fan =
    <K extends keyof ArbiterObserver>(name: K) =>
    (...args: Parameters<ArbiterObserver[K]>) => {
      for (const o of all) (o[name] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
  return {
    beforeSpawn: fan('beforeSpawn'),
    workerBooted: fan('workerBooted'),
    workerExited: fan('workerExited'),
    workerMessage: fan('workerMessage'),
    workerAborted: fan('workerAborted'),
    targetChanged: fan('targetChanged'),
    reloaded: fan('reloaded'),
    reloadFinished: fan('reloadFinished'),
    started: fan('started'),
    stopping: fan('stopping'),
    beforeReexec: fan('beforeReexec'),
  };
}
