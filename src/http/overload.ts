/**
 * Overload shedding (`--overload-503`): a saturated worker answers new requests with a fast 503 and
 * `Retry-After` instead of letting them queue behind work it cannot finish in time.
 *
 * A worker's requests wait in its event loop: Node reads every ready connection in the poll phase of one turn
 * of the loop, and a request that arrives while the loop runs app code waits for the rest of that turn. So
 * the decision is made per request as it is parsed, and the app runs only after every request of the turn has
 * been parsed (in the check phase that follows): a shed request's 503 is written before any app work of its
 * turn, and its whole wait is the previous turn. A request's expected wait is the loop time already spent in
 * this turn plus the app time of the requests admitted ahead of it (each estimated from the app's recent
 * requests). Past `--max-event-loop-delay` the worker is overloaded; from then on each turn admits only a fifth
 * of the limit in app time and sheds the rest, so that admitted requests wait about two fifths of the limit
 * (one turn in the kernel queue, one in ours), a 503 about one fifth, and the loop still spends nearly all
 * its time serving. It stays overloaded while its loop remains busy.
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

/** How often the loop's lateness is sampled: app work outside the admitted calls (timers, I/O callbacks). */
const TICK_MS = 10;
/** How often the overload state is reconsidered from the loop's utilization. */
const WINDOW_MS = 250;
/** Below this share of time busy, the loop has room again and the worker leaves the overloaded state. */
const BUSY_UTILIZATION = 0.9;
/** Weight of the newest request in the running estimate of one request's app time. */
const SERVICE_WEIGHT = 0.2;
/** Seconds a shed client is asked to wait: one is enough for a load balancer to try another instance. */
const RETRY_AFTER_S = 1;

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
  readonly #limitMs: number;
  readonly #budgetMs: number;
  #overloaded = false;
  /** When the current turn of the loop parsed its first request; undefined between turns. */
  #turnStart: number | undefined;
  /** Admitted requests of this turn, run in its check phase. */
  #admitted: Array<() => void> = [];
  /** Running estimate of the loop time one request's app call takes, in ms. */
  #serviceMs = 0;

  constructor(limitMs: number) {
    this.#limitMs = limitMs;
    this.#budgetMs = limitMs / 5;
    let expected = performance.now() + TICK_MS;
    const tick = setInterval(() => {
      const now = performance.now();
      if (now - expected > this.#limitMs) this.#overloaded = true;
      expected = now + TICK_MS;
    }, TICK_MS);
    tick.unref();
    let last = performance.eventLoopUtilization();
    const window = setInterval(() => {
      const current = performance.eventLoopUtilization();
      if (performance.eventLoopUtilization(current, last).utilization < BUSY_UTILIZATION) {
        this.#overloaded = false;
      }
      last = current;
    }, WINDOW_MS);
    window.unref();
  }

  /** Runs `app` for a request that has just been parsed, later in this turn, or sheds the request now. */
  handle(req: IncomingMessage, res: ServerResponse, app: () => void): void {
    const now = performance.now();
    if (this.#turnStart === undefined) {
      this.#turnStart = now;
      // Runs right after the loop's poll phase, once every request that arrived has been parsed.
      setImmediate(this.#run);
    }
    const wait = now - this.#turnStart + this.#admitted.length * this.#serviceMs;
    if (wait > this.#limitMs) this.#overloaded = true;
    if (this.#overloaded && wait > this.#budgetMs) respondOverloaded(req, res);
    else this.#admitted.push(app);
  }

  readonly #run = (): void => {
    const admitted = this.#admitted;
    this.#admitted = [];
    this.#turnStart = undefined;
    for (const app of admitted) {
      const start = performance.now();
      app();
      const took = performance.now() - start;
      this.#serviceMs =
        this.#serviceMs === 0 ? took : this.#serviceMs + SERVICE_WEIGHT * (took - this.#serviceMs);
    }
  };
}
