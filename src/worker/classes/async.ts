import { HttpServer } from '../../http/server.js';
import { listenOnFd } from '../listen.js';
import type { WorkerClass } from './worker-class.js';

/** Node's default keep-alive is 5 s, shorter than most load balancers' idle timeouts (60 s on AWS ALB). */
const KEEP_ALIVE_S = 65;

/** One event loop serving every connection it accepts. */
export const asyncWorker: WorkerClass = {
  async start({ app, config, fds }) {
    const http = new HttpServer(app, { keepAlive: KEEP_ALIVE_S });
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
