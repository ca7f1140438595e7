/**
 * Long-lived connections: upgraded sockets (WebSocket, CONNECT tunnels) and streamed responses (SSE,
 * chunked). They hold their slot like any connection, are told at once when the worker drains, and are
 * closed by the server shortly before the master's --graceful-timeout would kill the worker
 * (docs/streaming.md).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { log } from '../logging/logger.js';
import type { AppBinding } from './adapters/adapter.js';
import { unbatchWrites } from './write-batch.js';

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What an app's `onDrain` export is told. */
export interface DrainInfo {
  /** When the server closes the long-lived connections still open, in ms since the epoch. */
  readonly deadline: number;
}

export type DrainHook = (info: DrainInfo) => unknown;

export interface UpgradeSettings {
  /** --graceful-timeout, in seconds: the master kills a draining worker after it. */
  readonly gracefulTimeout: number;
  /** Set by a worker class that cannot hold upgraded connections: its name, for the refusal's log line. */
  readonly refuseUpgrades: string;
}

export const defaultUpgradeSettings: UpgradeSettings = { gracefulTimeout: 30, refuseUpgrades: '' };

/** The close code RFC 6455 gives a server that goes away. */
const GOING_AWAY = 1001;

/**
 * Time kept between closing the long-lived connections and the master's kill: a WebSocket close handshake
 * and the worker's exit both fit in it, so clients see a clean close rather than a reset.
 */
function closeMarginMs(gracefulMs: number): number {
  return Math.min(2000, gracefulMs / 5);
}

/** Exports the app module may have beside the app itself; each must be a function. */
const exportNames = ['upgrade', 'injectWebSocket', 'onDrain'] as const;

/**
 * Adds the module's `upgrade(req, socket, head)`, `injectWebSocket(server)` (the function
 * `createNodeWebSocket` of `@hono/node-ws` returns) and `onDrain(info)` exports to the binding.
 */
export function withAppExports(app: AppBinding, ns: Record<string, unknown>): AppBinding {
  const found: Partial<Record<(typeof exportNames)[number], (...args: any[]) => any>> = {};
  for (const name of exportNames) {
    const value = ns[name];
    if (value === undefined) continue;
    if (typeof value !== 'function') throw new TypeError(`the export "${name}" is not a function`);
    found[name] = value as (...args: any[]) => any;
  }
  if (!found.upgrade && !found.injectWebSocket && !found.onDrain) return app;
  const events = new Map(app.events);
  if (found.upgrade) {
    if (events.has('upgrade')) {
      throw new Error(
        "the module exports upgrade() and its http.Server has 'upgrade' listeners too; keep one of them",
      );
    }
    events.set('upgrade', found.upgrade);
  }
  return { ...app, events, attach: found.injectWebSocket, onDrain: found.onDrain };
}

/** The `ws` WebSocket on a socket it took over: `ws` keeps it under a symbol named `websocket`. */
function webSocketOf(socket: Duplex): { close(code: number, reason: string): void } | undefined {
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== 'websocket') continue;
    const ws = (socket as unknown as Record<symbol, any>)[symbol];
    if (ws && typeof ws.close === 'function' && typeof ws.readyState === 'number') return ws;
  }
  return undefined;
}

function refusalFor(workerClass: string): string {
  const body =
    `This server runs the ${workerClass} worker class, which cannot hold WebSocket or other upgraded ` +
    'connections.\n';
  return (
    'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** The worker's upgraded sockets, and how they and streamed responses end when the worker drains. */
export class LongLived {
  readonly #sockets = new Set<Duplex>();
  readonly #gracefulMs: number;
  readonly #onDrain: DrainHook | undefined;

  /** Call once the app's own event listeners are on the server. */
  constructor(server: Server, app: AppBinding, settings: UpgradeSettings) {
    this.#gracefulMs = Math.max(0, settings.gracefulTimeout * 1000);
    this.#onDrain = app.onDrain;
    app.attach?.(server);
    // The edge always listens for 'connect' (to serve CONNECT as a plain request), so only the app's own
    // listener says it wants tunnels; nobody but the app listens for 'upgrade'.
    const appConnect = app.events.get('connect');
    const tunnels = [
      ...(server.listenerCount('upgrade') > 0 ? (['upgrade'] as const) : []),
      ...(appConnect ? (['connect'] as const) : []),
    ];
    if (settings.refuseUpgrades) {
      let logged = false;
      for (const event of tunnels) {
        if (event === 'upgrade') server.removeAllListeners(event);
        else server.off(event, appConnect!);
        server.on(event, (_req: IncomingMessage, socket: Duplex) => {
          if (!logged) {
            logged = true;
            log.warning(
              `Upgrade refused: the ${settings.refuseUpgrades} worker class serves one request at a time and ` +
                'cannot hold WebSocket or other upgraded connections; run with -k async (--worker-class async)',
            );
          }
          socket.end(refusalFor(settings.refuseUpgrades));
        });
      }
      return;
    }
    for (const event of tunnels) {
      // First, so the socket is held before the app's listener can close it.
      server.prependListener(event, (_req: IncomingMessage, socket: Duplex) => {
        unbatchWrites(socket as Socket);
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
      });
    }
  }

  /** The socket was upgraded: it is the app's now, and a drain does not close it as an idle connection. */
  holds(socket: Duplex): boolean {
    return this.#sockets.has(socket);
  }

  /**
   * Tells the app at once, then closes what is still open shortly before the graceful timeout: WebSockets of
   * `ws` with 1001 Going Away, other upgraded sockets by ending them, streamed responses by ending them
   * cleanly. `responses` is read at closing time.
   */
  drain(responses: Iterable<ServerResponse>): void {
    const margin = closeMarginMs(this.#gracefulMs);
    const closeAt = Date.now() + this.#gracefulMs - margin;
    if (this.#onDrain) {
      try {
        Promise.resolve(this.#onDrain({ deadline: closeAt })).catch((err: unknown) =>
          log.exception("The app's onDrain hook failed", err),
        );
      } catch (err) {
        log.exception("The app's onDrain hook failed", err);
      }
    }
    setTimeout(() => this.#close(responses, margin / 2), closeAt - Date.now()).unref();
  }

  #close(responses: Iterable<ServerResponse>, forceAfterMs: number): void {
    const streams = [...responses].filter((res) => res.headersSent && !res.writableEnded);
    if (this.#sockets.size + streams.length === 0) return;
    log.info(
      `Closing ${this.#sockets.size} upgraded connection(s) and ${streams.length} streamed response(s) ` +
        'before the graceful timeout',
    );
    const ending = new Set<Duplex>(this.#sockets);
    for (const res of streams) {
      const socket = res.socket;
      if (!socket) continue;
      ending.add(socket);
      // The app may write on after we ended its stream; that write must not become an uncaught error.
      res.on('error', () => {});
      // A response without a length ends cleanly (the last chunk, or the close for HTTP/1.0); one with a
      // length would be cut short either way, so the socket's end says the truth.
      if (res.hasHeader('content-length')) socket.end();
      else res.end(() => socket.end());
    }
    for (const socket of this.#sockets) {
      const ws = webSocketOf(socket);
      if (ws) ws.close(GOING_AWAY, 'server going away');
      else socket.end();
    }
    // A client that never answers the close handshake or never reads is cut before the master's kill.
    setTimeout(() => {
      for (const socket of ending) socket.destroy();
    }, forceAfterMs).unref();
  }
}
