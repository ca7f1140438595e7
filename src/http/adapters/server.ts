import { Server } from 'node:net';
import { respondAppError } from '../app-error.js';
import { type Adapter, type AppBinding, binding, http2Obstacle } from './adapter.js';

/** Events the app may listen for on its own server; each is forwarded from the worker's real server. */
const forwarded = ['upgrade', 'connect', 'checkContinue', 'checkExpectation'] as const;

/**
 * An `http.Server` the app created (often with `ws` or Socket.IO attached): it never listens; the worker's
 * server emits on it every event the app registered for.
 */
export function fromServer(server: Server, kind = 'server'): AppBinding {
  if (server.listenerCount('request') === 0) {
    throw new Error(
      "the exported http.Server has no 'request' listener: pass your handler to http.createServer()",
    );
  }
  const events = new Map<string, (...args: any[]) => void>();
  for (const event of forwarded) {
    if (server.listenerCount(event) > 0) events.set(event, (...args) => server.emit(event, ...args));
  }
  const bound = binding(
    kind,
    (req, res) => {
      try {
        server.emit('request', req, res);
      } catch (err) {
        respondAppError(req, res, err);
      }
    },
    events,
  );
  // `http.createServer(expressApp)`: the server's own listener decides.
  const http1Only = server.listeners('request').map(http2Obstacle).find(Boolean);
  return http1Only ? { ...bound, http1Only } : bound;
}

export const serverAdapter: Adapter = {
  name: 'server',
  matches: (value) => value instanceof Server,
  bind: (value) => fromServer(value),
};
