/**
 * Overload shedding (`--overload-503`): a saturated worker answers new requests with a fast 503 and
 * `Retry-After` instead of letting them queue behind work it cannot finish in time.
 *
 * A worker's requests wait in its event loop, so the worker keeps its own queue of them: each request is
 * decided as soon as it is parsed, in the loop's poll phase, and the apps of the admitted ones run from the
 * queue a short slice at a time, each slice in its own turn of the loop. Between two slices the loop polls
 * again: it reads the requests that arrived meanwhile, answers the shed ones at once, and accepts a new
 * connection (libuv accepts one per turn since 1.45, so a loop that runs long turns also accepts slowly). A
 * request's expected wait is the app time of the requests queued ahead of it (each estimated from the app's
 * recent requests) plus how late the loop's timers run while it works (work outside the queue: callbacks of
 * async apps).
 * A request that would wait longer than the admission budget is shed; the others are served in order.
 *
 * The budget is `--max-event-loop-delay` under a steady overload, and adapts to bursts (see AdmissionBudget).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface OverloadSettings {
  /** Shed requests with 503 when the worker is saturated; off by default, as in Gunicorn. */
  readonly overload503: boolean;
  /** Milliseconds of event-loop delay past which the worker counts as saturated. */
  readonly maxEventLoopDelay: number;
}

export const defaultOverloadSettings: OverloadSettings = Object.freeze({
  overload503: false,
  maxEventLoopDelay: 100,
});

/** How often the loop's lateness is sampled. */
const TICK_MS = 10;
/** Weight of the newest request in the running estimate of one request's app time. */
const SERVICE_WEIGHT = 0.2;
/**
 * A request whose app takes more than this many times the estimate counts as this many: a worker descheduled
 * by the OS in the middle of one request must not make the next hundred look unaffordable.
 */
const SERVICE_SPIKE = 4;
/** Seconds a shed client is asked to wait: one is enough for a load balancer to try another instance. */
const RETRY_AFTER_S = 1;
/** How far the admission budget may grow past the limit, as a multiple of it. */
const BUDGET_CEILING = 10;
/** Idle loop time below this in one tick counts as none: the loop polls between slices without waiting. */
const IDLE_EPSILON_MS = 1;

/**
 * How long an admitted request may expect to wait. Load that arrives in bursts (clients whose timers fire
 * together, e.g. `h2load --rps` on many connections) overloads a worker for an instant and then leaves it
 * idle until the next burst: with a fixed budget it sheds most of each burst and then waits with nothing to
 * do. So the budget adapts, as CoDel tells a good queue (one that drains) from a standing one:
 *
 * - the loop sat idle soon after it shed (within the budget plus the limit of the last 503): the shed work
 *   would have fitted, so the budget grows by half the idle time, up to BUDGET_CEILING times the limit.
 *   Half, so it approaches the burst period from below instead of overshooting it;
 * - the loop was busy without a pause for longer than the budget plus the limit: the queue no longer drains
 *   between bursts. That alone loses nothing (each burst fills the time until the next), but the part of
 *   the queue that never drained in that time is a standing queue, which only lengthens every wait: the
 *   budget shrinks by the smallest expected wait seen in it, down to the limit. A cut by any fixed fraction
 *   either leaves a standing queue or, cutting deeper than it, leaves the loop idle before the next burst.
 *
 * Under a steady overload the loop never idles and the queue stays full, so the budget stays at (or returns,
 * in one cut, to) the limit.
 */
export class AdmissionBudget {
  readonly #limitMs: number;
  #budgetMs: number;
  #lastShedAt = Number.NEGATIVE_INFINITY;
  #busySince: number;
  /** The smallest expected wait sampled since `#busySince`. */
  #standingMs = Number.POSITIVE_INFINITY;

  constructor(limitMs: number, now: number) {
    this.#limitMs = limitMs;
    this.#budgetMs = limitMs;
    this.#busySince = now;
  }

  /** Milliseconds an admitted request may expect to wait. */
  get ms(): number {
    return this.#budgetMs;
  }

  /** A request was shed at `now`. */
  shed(now: number): void {
    this.#lastShedAt = now;
  }

  /**
   * The loop spent `idleMs` of the time since the last sample waiting for events, and a request admitted now
   * would expect to wait `waitMs`.
   */
  sample(now: number, idleMs: number, waitMs: number): void {
    if (idleMs >= IDLE_EPSILON_MS) {
      this.#busySince = now;
      this.#standingMs = Number.POSITIVE_INFINITY;
      if (now - this.#lastShedAt <= this.#budgetMs + this.#limitMs)
        this.#budgetMs = Math.min(BUDGET_CEILING * this.#limitMs, this.#budgetMs + idleMs / 2);
      return;
    }
    this.#standingMs = Math.min(this.#standingMs, waitMs);
    if (now - this.#busySince > this.#budgetMs + this.#limitMs) {
      this.#budgetMs = Math.max(this.#limitMs, this.#budgetMs - this.#standingMs);
      this.#busySince = now;
      this.#standingMs = Number.POSITIVE_INFINITY;
    }
  }
}

const shedListeners: Array<() => void> = [];

/** Called once for every shed request: metrics count them here. */
export function onShed(listener: () => void): void {
  shedListeners.push(listener);
}

const body = '503 Service Unavailable: the server is overloaded, retry later\n';

/**
 * The fast answer: no app, no body to read first. `close` ends the connection after it (a connection beyond
 * the worker's cap); otherwise it stays open for the retry.
 */
export function respondOverloaded(req: IncomingMessage, res: ServerResponse, close = false): void {
  for (const listener of shedListeners) listener();
  // The unread body is discarded by Node before the next request on this connection is parsed.
  req.resume();
  if (close) res.shouldKeepAlive = false;
  res.writeHead(503, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': String(RETRY_AFTER_S),
  });
  res.end(body);
}

export class LoadShedder {
  readonly #budget: AdmissionBudget;
  /** App time one turn of the loop spends on the queue before it polls again. */
  readonly #sliceMs: number;
  /** Admitted requests' app calls, oldest first from `#head`. */
  #queue: Array<() => void> = [];
  #head = 0;
  #scheduled = false;
  /** Running estimate of the loop time one request's app call takes, in ms. */
  #serviceMs = 0;
  /** How late the loop's last timer tick ran because the loop was busy, in ms. */
  #lagMs = 0;

  constructor(limitMs: number) {
    this.#sliceMs = limitMs / 20;
    let expected = performance.now() + TICK_MS;
    this.#budget = new AdmissionBudget(limitMs, performance.now());
    let utilization = performance.eventLoopUtilization();
    let cpu = process.cpuUsage();
    const tick = setInterval(() => {
      const now = performance.now();
      // A tick also runs late when the OS gave the CPU to another process while the loop waited, which
      // delays nothing queued here: the process's own CPU time in the interval bounds the busy part. Without
      // the bound, an idle worker on a loaded 2-core box now and then shed a request with a 20 ms limit.
      const cpuNow = process.cpuUsage();
      const usedMs = (cpuNow.user - cpu.user + cpuNow.system - cpu.system) / 1000;
      cpu = cpuNow;
      this.#lagMs = Math.max(0, Math.min(now - expected, usedMs));
      expected = now + TICK_MS;
      const current = performance.eventLoopUtilization();
      this.#budget.sample(now, performance.eventLoopUtilization(current, utilization).idle, this.#wait());
      utilization = current;
    }, TICK_MS);
    tick.unref();
  }

  /** Queues `app` for a request that has just been parsed, or sheds the request now. */
  handle(req: IncomingMessage, res: ServerResponse, app: () => void): void {
    if (this.#wait() > this.#budget.ms) {
      this.#budget.shed(performance.now());
      respondOverloaded(req, res);
      return;
    }
    this.#queue.push(app);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // The check phase, right after this poll phase: every request that arrived has been decided by then.
      setImmediate(this.#run);
    }
  }

  /** How long a request admitted now would expect to wait. */
  #wait(): number {
    return this.#lagMs + (this.#queue.length - this.#head) * this.#serviceMs;
  }

  readonly #run = (): void => {
    const start = performance.now();
    while (this.#head < this.#queue.length) {
      const app = this.#queue[this.#head]!;
      this.#queue[this.#head++] = noop;
      const before = performance.now();
      app();
      const took = performance.now() - before;
      this.#serviceMs =
        this.#serviceMs === 0
          ? took
          : this.#serviceMs +
            SERVICE_WEIGHT * (Math.min(took, SERVICE_SPIKE * this.#serviceMs) - this.#serviceMs);
      if (performance.now() - start >= this.#sliceMs) break;
    }
    if (this.#head < this.#queue.length) {
      setImmediate(this.#run);
      return;
    }
    this.#queue = [];
    this.#head = 0;
    this.#scheduled = false;
  };
}

function noop(): void {}
