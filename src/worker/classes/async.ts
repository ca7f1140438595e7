import { HttpServer } from '../../http/server.js';
import { Admission } from '../admission.js';
import type { WorkerClass } from './worker-class.js';

/**
 * One event loop serving up to --worker-connections connections at once. A connection holds its slot while
 * it is open, idle keep-alive time included, as Gunicorn's worker_connections counts.
 */
export const asyncWorker: WorkerClass = {
  async start({ loadApp, config, fds }) {
    const http = new HttpServer(await loadApp(), config);
    const admission = new Admission({
      fds,
      backlog: config.backlog,
      capacity: config.workerConnections,
      serve(socket) {
        socket.once('close', () => admission.release());
        http.accept(socket);
        socket.resume();
      },
    });
    await admission.listen();
    return {
      async drain() {
        admission.drain();
        await http.drain();
      },
      healthy: () => true,
    };
  },
};
