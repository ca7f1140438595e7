/**
 * Overload shedding (`--overload-503`): a saturated worker answers new requests with a fast 503 and
 * `Retry-After` instead of letting them queue behind work it cannot finish in time.
 *
 * A worker's requests wait in its event loop: Node reads every ready connection in one turn of the loop and
 * runs each request's synchronous work there, so a request that arrives during a turn waits for the rest of
 * it, and then for its own place in the next. The event-loop delay is that wait. The worker becomes
 * overloaded when the delay passes `--max-event-loop-delay`; from then on each turn serves requests only for
 * a fifth of the limit and sheds the rest, so that a shed request's whole wait (one turn's remainder plus its
 * place in the next) stays well under the limit, and the loop still spends nearly all its time serving. It
 * stays overloaded while its loop remains busy.
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
/** How often the overload state is reconsidered from the loop's utilization. */
const WINDOW_MS = 250;
/** Below this share of time busy, the loop has room again and the worker leaves the overloaded state. */
const BUSY_UTILIZATION = 0.9;
/** Seconds a shed client is asked to wait: one is enough for a load balancer to try another instance. */
const RETRY_AFTER_S = 1;

const shedListeners: Array<() => void> = [];

/** Called once for every shed request: metrics count them here. */
export function onShed(listener: () => void): void {
  shedListeners.push(listener);
}

const body = '503 Service Unavailable: the server is overloaded, retry later\n';

export class LoadShedder {
  readonly #limitMs: number;
  readonly #budgetMs: number;
  #overloaded = false;
  /** When the current turn of the loop handled its first request; undefined between turns. */
  #turnStart: number | undefined;

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

  /**
   * Decides for a request that has just been parsed: true means answer it with `respond` instead of the app.
   * Requests of one turn are parsed one after another, so the time since the turn's first request is how
   * long the loop has been away from everything else.
   */
  shouldShed(): boolean {
    const now = performance.now();
    if (this.#turnStart === undefined) {
      this.#turnStart = now;
      // Runs right after the loop's poll phase, that is at the end of this turn.
      setImmediate(() => {
        this.#turnStart = undefined;
      });
    }
    const turn = now - this.#turnStart;
    if (turn > this.#limitMs) this.#overloaded = true;
    return this.#overloaded && turn > this.#budgetMs;
  }

  /** The fast answer: no app, no body to read first, and the connection stays open for the retry. */
  respond(req: IncomingMessage, res: ServerResponse): void {
    for (const listener of shedListeners) listener();
    // The unread body is discarded by Node before the next request on this connection is parsed.
    req.resume();
    res.writeHead(503, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'retry-after': String(RETRY_AFTER_S),
    });
    res.end(body);
  }
}
