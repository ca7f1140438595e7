/**
 * The master⇄worker vocabulary: one discriminated union per direction, and the boot description the master
 * hands a worker in its environment. Both sides import only this file from each other's world.
 */
import type { Config } from '../config/table.js';

/** What a worker knows at spawn: passed as JSON in TSUNICORN_WORKER. */
export interface WorkerBoot {
  /** Stable slot 0…N-1, reused by the worker that replaces this one (TSUNICORN_WORKER_ID). */
  readonly id: number;
  /** Spawn counter; lower is older. */
  readonly age: number;
  readonly generation: number;
  /** Descriptor numbers of the inherited listeners in the worker, in bind order. */
  readonly fds: readonly number[];
  readonly config: Config;
}

export const WORKER_BOOT_ENV = 'TSUNICORN_WORKER';

export type WorkerMessage =
  /** The worker is accepting on every listener: it counts as capacity from now on. */
  | { readonly type: 'booted' }
  /** Sent every second by the worker's main event loop. */
  | { readonly type: 'heartbeat' };

export type WorkerMessageType = WorkerMessage['type'];

const workerMessageTypes: ReadonlySet<string> = new Set<WorkerMessageType>(['booted', 'heartbeat']);

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    workerMessageTypes.has((value as { type?: unknown }).type as string)
  );
}
