import type { Socket } from 'node:net';
import { binding } from '../../http/adapters/adapter.js';
import { HttpServer } from '../../http/server.js';
import { transportOf } from '../../http/tls.js';
import { startReading } from '../../ipc/handles.js';
import { Admission } from '../admission.js';
import { ThreadPool } from '../threads/pool.js';
import type { WorkerClass } from './worker-class.js';

/**
 * --threads app threads per worker, each running one request at a time, as Gunicorn's gthread. The main
 * thread accepts, parses and keeps idle keep-alive connections; it never runs app code. A connection holds a
 * slot from accept until its request is answered, and again for each later request on it, so an idle
 * keep-alive connection does not keep a thread's worth of capacity from other clients.
 */
export const threadsWorker: WorkerClass = {
  async start({ config, fds }) {
    const pool = await ThreadPool.start({
      size: config.threads,
      boot: {
        app: config.app,
        cwd: process.cwd(),
        logLevel: config.logLevel,
        unhandledRejection: config.unhandledRejection,
        noFastResponse: config.noFastResponse,
      },
      // --timeout 0 turns hung-worker detection off, for threads as for the main loop.
      hungAfterMs: config.timeout > 0 ? config.timeout * 1000 : Number.POSITIVE_INFINITY,
    });
    const http = await HttpServer.create(
      binding('threads', (req, res) => pool.dispatch(req, res)),
      {
        ...config,
        http1Only: 'app threads are handed HTTP/1.1 requests; use -k async for HTTP/2',
      },
    );
    /** Connections holding a slot, and how many of their requests are unanswered. */
    const holding = new Map<Socket, number>();
    const release = (socket: Socket) => {
      if (holding.delete(socket)) admission.release();
    };
    http.server.on('request', (req, res) => {
      const socket = transportOf(req.socket);
      const inFlight = holding.get(socket);
      if (inFlight === undefined) admission.acquire();
      holding.set(socket, (inFlight ?? 0) + 1);
      res.once('close', () => {
        const left = (holding.get(socket) ?? 1) - 1;
        if (left === 0) release(socket);
        else holding.set(socket, left);
      });
    });
    const admission = new Admission({
      fds,
      backlog: config.backlog,
      capacity: config.threads,
      queues: true,
      serve(socket) {
        // Accepted and not yet sent its request: it already counts, or a burst would all land here.
        holding.set(socket, 0);
        socket.once('close', () => release(socket));
        http.accept(socket);
        startReading(socket);
      },
    });
    await admission.listen();
    return {
      async drain() {
        await admission.drain();
        await http.drain();
        await pool.close();
      },
      healthy: () => pool.healthy(),
    };
  },
};
