/**
 * The master's control socket: a unix socket in a directory only its owner can enter, mode 0600, speaking
 * the length-prefixed JSON of src/control/protocol.ts. A socket that cannot be created is a warning, so a
 * read-only container still serves.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  type ControlRequest,
  type ControlResponse,
  defaultControlSocket,
  encodeFrame,
  ensurePrivateDirectory,
  FrameDecoder,
} from '../control/protocol.js';
import { log } from '../logging/logger.js';

/** Answers one request; a thrown error becomes the `error` of the response. */
export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/** True when a process accepts on the socket file; a stale file from a crashed master refuses. */
function inUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export class ControlServer {
  readonly path: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(path: string, server: Server) {
    this.path = path;
    this.#server = server;
  }

  /** Opens the socket, or logs why it cannot and returns undefined. */
  static async open(
    explicit: string,
    env: Readonly<Record<string, string | undefined>>,
    handle: ControlHandler,
  ): Promise<ControlServer | undefined> {
    const path = explicit || defaultControlSocket(env);
    try {
      if (!explicit) ensurePrivateDirectory(dirname(path));
      if (lstatSync(path, { throwIfNoEntry: false })) {
        if (await inUse(path)) throw new Error('another process is accepting on it');
        unlinkSync(path);
      }
      const server = createServer();
      const control = new ControlServer(path, server);
      server.on('connection', (socket) => control.#serve(socket, handle));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(path, 0o600);
      log.info(`Control socket: ${path}`);
      return control;
    } catch (err) {
      log.warning(`No control socket at ${path}: ${(err as Error).message}`);
      return undefined;
    }
  }

  #serve(socket: Socket, handle: ControlHandler): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const decoder = new FrameDecoder();
    // Answers go out in request order even when a later command finishes first.
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let requests: unknown[];
      try {
        requests = decoder.push(chunk);
      } catch (err) {
        socket.end(encodeFrame({ ok: false, error: `bad frame: ${(err as Error).message}` }));
        return;
      }
      for (const request of requests) {
        queue = queue.then(async () => {
          const response = await answer(request, handle);
          if (!socket.destroyed) socket.write(encodeFrame(response));
        });
      }
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function answer(request: unknown, handle: ControlHandler): Promise<ControlResponse> {
  const r = request as Partial<ControlRequest> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.command !== 'string' ||
    (r.args !== undefined && (!Array.isArray(r.args) || !r.args.every((a) => typeof a === 'string')))
  ) {
    return { ok: false, error: 'expected {"command": string, "args": [string, …]}' };
  }
  try {
    return { ok: true, result: await handle({ command: r.command, args: r.args ?? [] }) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
