import type { Config } from '../config/table.js';
import { addRequestObserver } from '../http/request-observer.js';
import type { WorkerMessage } from '../ipc/messages.js';
import { log } from '../logging/logger.js';

/**
 * --max-requests: after its share of requests (the limit plus this worker's jitter) the worker asks the master
 * to replace it, and serves on until the replacement has booted and it is drained.
 */
export function watchMaxRequests(config: Config, send: (message: WorkerMessage) => void): void {
  if (config.maxRequests <= 0) return;
  // Math.random, not node:crypto: the jitter only spreads restarts, and loading crypto slows every boot.
  const limit = config.maxRequests + Math.floor(Math.random() * (config.maxRequestsJitter + 1));
  let count = 0;
  addRequestObserver(() => {
    if (++count !== limit) return;
    log.info(`Autorestarting worker after current request (max requests: ${limit})`);
    send({ type: 'recycle', reason: 'max-requests' });
  });
}
