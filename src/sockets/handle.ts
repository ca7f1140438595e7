/**
 * The one place that touches Node internals of listening sockets.
 *
 * Creating a bound (not listening, never accepting) server socket in the master: `net._createServerHandle`
 * is what `node:cluster` itself uses for shared handles; a test runs this module on every supported Node so
 * a change there is caught at once. The public-API fallback, should it go away, is `node:cluster` with
 * SCHED_NONE (the primary shares a bound handle with its workers without accepting); see docs/design.md.
 *
 * Pausing a worker's accepting (setAccepting), which no public API offers either.
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** The master's bound socket: its fd goes into each worker's stdio array. */
export interface BoundHandle {
  readonly fd: number;
  getsockname?(out: Record<string, unknown>): number;
  close(): void;
}

type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => BoundHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })
  ._createServerHandle;

function create(...args: Parameters<CreateServerHandle>): BoundHandle {
  if (typeof createServerHandle !== 'function') {
    throw new Error(
      `this Node.js (${process.version}) has no net._createServerHandle; tsunicorn cannot bind sockets`,
    );
  }
  const handle = createServerHandle(...args);
  if (typeof handle === 'number') {
    const err = new Error(getSystemErrorName(handle)) as NodeJS.ErrnoException;
    err.code = getSystemErrorName(handle);
    throw err;
  }
  return handle;
}

/**
 * Binds a TCP socket. libuv defers EADDRINUSE from bind() to listen(), which only workers call; so a bind
 * that did not take shows up here as a socket with no port, and is reported as EADDRINUSE now.
 */
export function bindTcp(host: string, port: number, family: 4 | 6): { handle: BoundHandle; port: number } {
  const handle = create(host, port, family);
  const out: Record<string, unknown> = {};
  handle.getsockname?.(out);
  const bound = typeof out.port === 'number' ? out.port : 0;
  if (bound === 0 || (port !== 0 && bound !== port)) {
    handle.close();
    const err = new Error('EADDRINUSE') as NodeJS.ErrnoException;
    err.code = 'EADDRINUSE';
    throw err;
  }
  return { handle, port: bound };
}

export function bindUnix(path: string): BoundHandle {
  return create(path, -1, -1);
}

/** Adopts an inherited listening or bound descriptor (systemd socket activation, `fd://N`). */
export function adoptFd(fd: number): BoundHandle {
  // Node asserts that neither an address nor a port comes with an fd: the port must be 0, not -1.
  return create(null, 0, -1, fd);
}

interface ListenHandle {
  readStart?(): number;
  readStop?(): number;
}

/**
 * Stops or restarts a worker's accepting on a listener, so that a full worker leaves new connections in the
 * kernel's queue for a worker with room, as Gunicorn's sync worker does by not calling accept(). libuv
 * watches a listening socket with the same read watcher that its handle's `readStop`/`readStart` switch,
 * for a socket opened from a descriptor (as workers open theirs), and accepts one connection per wake-up,
 * so a stop from the connection callback takes effect before the next accept. Returns false where the
 * handle cannot: its owner then accepts while full and passes on what it cannot serve.
 */
export function setAccepting(server: net.Server, on: boolean): boolean {
  const handle = (server as unknown as { _handle?: ListenHandle | null })._handle;
  if (typeof handle?.readStart !== 'function' || typeof handle.readStop !== 'function') return false;
  return (on ? handle.readStart() : handle.readStop()) === 0;
}
