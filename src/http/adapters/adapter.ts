import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loaded app, bound to what the worker's HTTP server needs. */
export interface AppBinding {
  /** The adapter's short name, for logs: listener, server, koa, fastify, fetch. */
  readonly kind: string;
  /** Handles one request; never throws (app errors become a 500 and a log line). */
  readonly handle: RequestHandler;
  /** Further http.Server events the app listens to (upgrade, connect, checkContinue, …). */
  readonly events: ReadonlyMap<string, (...args: any[]) => void>;
  /** Given the worker's server once, as `@hono/node-ws`'s `injectWebSocket(server)` expects. */
  readonly attach?: (server: Server) => void;
  /** Told at once when the worker starts draining (docs/streaming.md). */
  readonly onDrain?: (info: { readonly deadline: number }) => unknown;
}

/** One kind of app: recognises an exported value and binds it. */
export interface Adapter {
  readonly name: string;
  matches(value: unknown): boolean;
  bind(value: any): AppBinding | Promise<AppBinding>;
}

export function binding(
  kind: string,
  handle: RequestHandler,
  events = new Map<string, (...args: any[]) => void>(),
): AppBinding {
  return { kind, handle, events };
}
