import { IncomingMessage, type Server, type ServerResponse } from 'node:http';

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
  /** Why the app cannot run on HTTP/2's compatibility API, when it cannot: TLS then offers HTTP/1.1 only. */
  readonly http1Only?: string;
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

/**
 * Why a `(req, res)` handler cannot be served over HTTP/2, if it cannot. HTTP/2 hands apps Node's
 * Http2ServerRequest and Http2ServerResponse; a framework that moves `req` and `res` onto its own prototypes
 * built on http.IncomingMessage and http.ServerResponse reads HTTP/1 internals that are not there (Express 5
 * throws on the first HTTP/2 request). Such apps carry those prototypes as `request` and `response`.
 */
export function http2Obstacle(handler: unknown): string | undefined {
  if (typeof handler !== 'function') return undefined;
  const request = (handler as { request?: unknown }).request;
  if (typeof request !== 'object' || request === null || !(request instanceof IncomingMessage))
    return undefined;
  return "the app replaces Node's request and response prototypes (Express does), which HTTP/2's compatibility API cannot serve";
}
