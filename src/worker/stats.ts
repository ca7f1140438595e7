import { monitorEventLoopDelay } from 'node:perf_hooks';
import { requestCounts } from '../http/request-observer.js';
import type { WorkerMessage } from '../ipc/messages.js';

const STATS_EVERY_MS = 1000;
const RESOLUTION_MS = 10;

/** Reports the requests the HTTP server observed, with memory and loop delay, once a second. */
export function reportStats(send: (message: WorkerMessage) => void): void {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  setInterval(() => {
    // Nanoseconds, and each sample includes the sampling timer's own period; an empty interval gives NaN.
    const mean = delay.mean / 1e6 - RESOLUTION_MS;
    delay.reset();
    send({
      type: 'stats',
      stats: {
        ...requestCounts(),
        heapUsed: process.memoryUsage().heapUsed,
        eventLoopDelayMs: Number.isFinite(mean) ? Math.max(0, Math.round(mean * 100) / 100) : 0,
      },
    });
  }, STATS_EVERY_MS).unref();
}
