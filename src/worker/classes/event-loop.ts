import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpServer } from '../../http/server.js';
import { startReading } from '../../ipc/handles.js';
import { Admission } from '../admission.js';
import type { RunningWorker } from './worker-class.js';

/** The release of a connection's slot, for a class whose connections serve one response each. */
const slots = new WeakMap<Socket, () => void>();

function releaseSlot(this: ServerResponse): void {
  slots.get(this.req.socket as Socket)?.();
}

/**
 * Serves on the worker's own event loop (the async and sync classes): each connection holds one of
 * `capacity` slots from accept to close; beyond them, new connections go to the master for another worker.
 * With `oneResponse` (every connection serves one response, then closes) the slot frees as soon as that
 * response is written, as Gunicorn's sync worker takes the next connection once it has closed the last:
 * the close itself waits for the client's end, a round trip that would idle the worker.
 */
export async function serveOnEventLoop(
  http: HttpServer,
  options: { fds: readonly number[]; backlog: number; capacity: number; oneResponse?: boolean },
): Promise<RunningWorker> {
  if (options.oneResponse)
    http.server.on('request', (_req: unknown, res: ServerResponse) => res.once('finish', releaseSlot));
  const admission = new Admission({
    ...options,
    serve(socket) {
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        slots.delete(socket);
        admission.release();
      };
      socket.once('close', release);
      if (options.oneResponse) slots.set(socket, release);
      http.accept(socket);
      startReading(socket);
    },
    refuse: http.shedsBeyondCap
      ? (socket) => {
          http.accept(socket, true);
          startReading(socket);
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
