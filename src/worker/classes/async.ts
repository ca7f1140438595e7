import { HttpServer } from '../../http/server.js';
import { serveOnEventLoop } from './event-loop.js';
import type { WorkerClass } from './worker-class.js';

/**
 * One event loop serving up to --worker-connections connections at once. A connection holds its slot while
 * it is open, idle keep-alive time included, as Gunicorn's worker_connections counts.
 */
export const asyncWorker: WorkerClass = {
  async start({ loadApp, config, fds }) {
    const http = await HttpServer.create(await loadApp(), config);
    return serveOnEventLoop(http, { fds, backlog: config.backlog, capacity: config.workerConnections });
  },
};
