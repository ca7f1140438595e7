import type { IncomingMessage } from 'node:http';

/** Who a request came from, once proxy headers from a trusted peer are taken into account. */
export interface Client {
  /** The client's IP address: the peer, or what a trusted proxy says the client was. */
  readonly address: string;
  /** `https` when the connection, or a trusted proxy in front of it, is secure. */
  readonly scheme: 'http' | 'https';
  /** The host the client asked for, for the fetch Request's URL. */
  readonly host: string | undefined;
}

const kClient = Symbol('tsunicorn.client');

type Carrier = IncomingMessage & { [kClient]?: Client };

/** Kept on the request itself: a WeakMap entry per request cost a measurable share of a hello-world request. */
export function setClient(req: IncomingMessage, client: Client): void {
  (req as Carrier)[kClient] = client;
}

/** The request's client; without proxy trust applied, or when a trusted proxy said nothing, its peer. */
export function clientOf(req: IncomingMessage): Client {
  return (req as Carrier)[kClient] ?? new Peer(req);
}

/** The peer as the client. Its address is read when asked: it costs a system call (getpeername) per connection. */
class Peer implements Client {
  readonly scheme: 'http' | 'https';
  readonly host: string | undefined;
  readonly #socket: IncomingMessage['socket'] | undefined;

  constructor(req: IncomingMessage) {
    this.#socket = req.socket;
    this.scheme = (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
    // HTTP/2 names the host in `:authority`; clients send `Host` only when they translate HTTP/1.1.
    this.host = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  }

  get address(): string {
    return this.#socket?.remoteAddress ?? '-';
  }
}
