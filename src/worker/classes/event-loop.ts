import type { HttpServer } from '../../http/server.js';
import { Admission } from '../admission.js';
import type { RunningWorker } from './worker-class.js';

/**
 * Serves on the worker's own event loop (the async and sync classes): each connection holds one of
 * `capacity` slots from accept to close; beyond them, new connections go to the master for another worker.
 */
export async function serveOnEventLoop(
  http: HttpServer,
  options: { fds: readonly number[]; backlog: number; capacity: number },
): Promise<RunningWorker> {
  const admission = new Admission({
    ...options,
    serve(socket) {
      socket.once('close', () => admission.release());
      http.accept(socket);
      socket.resume();
    },
    refuse: http.shedsBeyondCap
      ? (socket) => {
          http.accept(socket, true);
          socket.resume();
        }
      : undefined,
  });
  await admission.listen();
  return {
    async drain() {
      await admission.drain();
      await http.drain();
    },
    healthy: () => true,
  };
}
