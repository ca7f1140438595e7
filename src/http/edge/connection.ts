import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Outcome } from './client-error.js';

/**
 * What the worker's HTTP/1.1 pipeline (the server and its edge) knows about one connection. It lives on the
 * socket itself: a property read per request costs less than a Map or WeakMap lookup, and it goes with the
 * socket.
 */
export interface Connection {
  /**
   * Responses not yet closed, oldest first. A request pipelined behind one still in flight whose connection
   * then drops never gets a `close` from Node, so this list, not a worker-wide set, is where it may linger.
   */
  readonly inFlight: ServerResponse[];
  /** When a request last started or ended; kept only while the worker drains. */
  lastActivity: number;
  /** Accepted beyond the worker's connection cap with --overload-503: every request on it is shed. */
  beyondCap: boolean;
  /** The connection was refused: nothing more is served on it. */
  refused: boolean;
  /** What a parse error decided, applied once nothing is in flight. */
  pending: Outcome | undefined;
  /** Bytes flushed to the client when its pending output last moved, and since when it has not. */
  stall: { flushed: number; since: number } | undefined;
}

const kConnection = Symbol('tsunicorn.connection');

type Carrier = Duplex & { [kConnection]?: Connection };

export function connectionOf(socket: Duplex): Connection {
  const carrier = socket as Carrier;
  let c = carrier[kConnection];
  if (c === undefined) {
    c = {
      inFlight: [],
      lastActivity: 0,
      beyondCap: false,
      refused: false,
      pending: undefined,
      stall: undefined,
    };
    carrier[kConnection] = c;
  }
  return c;
}
