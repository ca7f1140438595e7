import { HttpServer } from '../../http/server.js';
import { serveOnEventLoop } from './event-loop.js';
import type { WorkerClass } from './worker-class.js';

/**
 * One request at a time per worker, as Gunicorn's sync worker. The worker's one slot is held by its one
 * connection from accept to close, so a connection that has not sent its request yet also keeps others out
 * (while it is held, the worker does not accept: they wait in the kernel's queue for a worker with a free slot).
 */
export const syncWorker: WorkerClass = {
  async start({ loadApp, config, fds }) {
    const http = await HttpServer.create(await loadApp(), {
      ...config,
      keepAlive: 0,
      refuseUpgrades: 'sync',
      // The slot is released on node:http's 'request' and response 'finish' (event-loop.ts).
      noLeanHttp: true,
      // One response at a time: nothing to write together, and a held one would only wait.
      noWriteBatching: true,
      http1Only: 'the sync worker class serves one request per connection; use -k async for HTTP/2',
    });
    // Keep-alive off whatever --keep-alive says, as Gunicorn's sync: every response says `Connection: close`,
    // and a request pipelined behind the first gets a 503 instead of running beside it.
    http.server.maxRequestsPerSocket = 1;
    return serveOnEventLoop(http, { fds, backlog: config.backlog, capacity: 1, oneResponse: true });
  },
};
