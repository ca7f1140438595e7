import { HttpServer } from '../../http/server.js';
import { listenOnFd } from '../listen.js';
import type { WorkerClass } from './worker-class.js';

/** One event loop serving every connection it accepts. */
export const asyncWorker: WorkerClass = {
  async start({ app, config, fds }) {
    const http = new HttpServer(app, config);
    const listeners = await Promise.all(
      fds.map((fd) => listenOnFd(fd, config.backlog, (s) => http.accept(s))),
    );
    return {
      async drain() {
        for (const l of listeners) l.close();
        await http.drain();
      },
    };
  },
};
