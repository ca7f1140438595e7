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
  /** The worker exits when its parent is no longer this process. */
  readonly masterPid: number;
  /** Descriptor numbers of the inherited listeners in the worker, in bind order. */
  readonly fds: readonly number[];
  readonly config: Config;
}

export const WORKER_BOOT_ENV = 'TSUNICORN_WORKER';

export type WorkerMessage =
  /** The worker is accepting on every listener: it counts as capacity from now on. */
  | { readonly type: 'booted' }
  /** Sent every second by the worker's main event loop, with its resident memory in bytes. */
  | { readonly type: 'heartbeat'; readonly rss: number }
  /** The worker asks to be replaced (it keeps serving until the replacement booted and it is drained). */
  | { readonly type: 'recycle'; readonly reason: RecycleReason }
  /**
   * How many more connections the worker can take now. Sent when the count reaches or leaves zero, when it
   * moved by SHARE_STEP since the last report, and in answer to each connection the master routed here: the
   * master learns what it needs for routing and balancing without a message per connection on the direct
   * path.
   */
  | {
      readonly type: 'capacity';
      /** Negative when the worker holds more than its slots (`queues` workers report how far). */
      readonly free: number;
      /**
       * The worker queues what it is given beyond its slots fairly with its own requests (threads: the
       * pool's FIFO). Its kept-alive clients take slots without asking, so under steady keep-alive load its
       * count never rises above zero, and a connection held in the master for it would wait forever.
       */
      readonly queues: boolean;
    }
  /** Carries a connection (the IPC handle) the worker accepted while full, for the master to route. */
  | { readonly type: 'handoff' }
  /**
   * The draining worker stopped accepting: the master routes nothing more to it and answers
   * `routing-stopped`. Sent behind the worker's last handoffs, so the master has them all when it reads this.
   */
  | { readonly type: 'stop-routing' }
  /** The worker's cumulative Prometheus metrics (prom-client's JSON form), when --metrics-bind is set. */
  | { readonly type: 'metrics'; readonly metrics: readonly object[] }
  /** Sent every second for the control socket's `stats` (counts since boot, bytes, milliseconds). */
  | { readonly type: 'stats'; readonly stats: WorkerStats };

export interface WorkerStats {
  readonly requests: number;
  readonly inFlight: number;
  readonly heapUsed: number;
  /** The event loop's mean delay over the last interval. */
  readonly eventLoopDelayMs: number;
}

/** Why a healthy worker is replaced; also the `reason` label of restart metrics. */
export type RecycleReason = 'max-requests' | 'memory';

export type WorkerMessageType = WorkerMessage['type'];

const workerMessageTypes: ReadonlySet<string> = new Set<WorkerMessageType>([
  'booted',
  'heartbeat',
  'recycle',
  'capacity',
  'handoff',
  'stop-routing',
  'metrics',
  'stats',
]);

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    workerMessageTypes.has((value as { type?: unknown }).type as string)
  );
}

/**
 * A worker with many connection slots (async) also reports its free count each time it moved this far, and
 * the master tells it its siblings' each time theirs did: connections are balanced on these counts.
 */
export const SHARE_STEP = 16;
/**
 * How many more connections than its least loaded sibling a worker may hold before it hands new ones to the
 * master: two steps, so that one stale count alone never trips it.
 */
export const SHARE_SLACK = 2 * SHARE_STEP;

export type MasterMessage =
  /** Carries a connection (the IPC handle) another worker handed off; the receiver always serves it. */
  | { readonly type: 'connection' }
  /**
   * Connections are (or are no longer) waiting in the master. While they are, a worker hands off what it
   * accepts even with a free slot, so waiting connections are served first, in order.
   */
  | { readonly type: 'backlog'; readonly waiting: boolean }
  /**
   * The answer to `stop-routing`. It travels behind every connection the master routed to the worker, so the
   * worker has them all once it reads this, and may exit when they are served.
   */
  | { readonly type: 'routing-stopped' }
  /**
   * The free count of the least loaded of the worker's siblings (null: it has none), sent when it moved by
   * SHARE_STEP. A worker that holds SHARE_SLACK more connections than that hands off what it accepts, for
   * the master to route to the least loaded, until it is within half of that (see Dispatcher#balance).
   */
  | { readonly type: 'balance'; readonly siblingFree: number | null }
  /**
   * The master is about to stop or drain (--drain-delay): readiness answers 503 from now on, while requests
   * are still served until the worker is told to drain.
   */
  | { readonly type: 'draining' };

export type MasterMessageType = MasterMessage['type'];

const masterMessageTypes: ReadonlySet<string> = new Set<MasterMessageType>([
  'connection',
  'backlog',
  'routing-stopped',
  'balance',
  'draining',
]);

export function isMasterMessage(value: unknown): value is MasterMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    masterMessageTypes.has((value as { type?: unknown }).type as string)
  );
}
