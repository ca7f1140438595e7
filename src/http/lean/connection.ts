/**
 * The lean HTTP/1.1 path for fetch apps. node:http costs about twice what the bytes of a small request and
 * response cost on a raw socket (docs/performance.md); most requests a fetch app serves are small, arrive
 * whole, and need none of what makes a parser big. Each connection starts here. A request that is complete
 * in what has arrived and within parseLean()'s subset is served here, one at a time; at the first one that
 * is not (split across reads, chunked, an upgrade, anything malformed or over a limit), the connection is
 * handed, with every unread byte put back, to node:http for the rest of its life. Only a connection with no
 * response in flight is handed over, so answers stay in order.
 */
import type { Socket } from 'node:net';
import { log } from '../../logging/logger.js';
import type { Limits } from '../edge/limits.js';
import { LeanRequest, LeanResponse, type LeanWire } from './exchange.js';
import { parseLean } from './parse.js';

/** Bytes a client may pipeline behind a request in flight before the connection stops reading. */
const PIPELINE_MAX = 1 << 20;

export interface LeanOptions {
  readonly limits: Limits;
  /** Idle time allowed between requests; 0: one request per connection. */
  readonly keepAliveMs: number;
  /** Time allowed for a connection's first request to arrive; 0: no limit. */
  readonly headerTimeoutMs: number;
  /** Serves a request: the server's pipeline, as for node:http's requests. */
  readonly request: (req: LeanRequest, res: LeanResponse) => void;
  /** Takes over a connection the lean path leaves, with its unread bytes put back: node:http. */
  readonly fallback: (socket: Socket) => void;
  /** Answers a connection that sent nothing within the header timeout, as the edge answers node:http's. */
  readonly timedOut: (socket: Socket) => void;
}

export class LeanHttp1 {
  readonly #options: LeanOptions;

  constructor(options: LeanOptions) {
    this.#options = options;
  }

  accept(socket: Socket): void {
    new LeanConnection(socket, this.#options);
  }
}

class LeanConnection implements LeanWire {
  readonly socket: Socket;
  readonly keepAliveSeconds: number;
  readonly #options: LeanOptions;
  /** Bytes received and not yet served. */
  #buffer: Buffer | undefined;
  #current: LeanResponse | undefined;
  #served = 0;
  /** A response said `Connection: close`: nothing more is read. */
  #closing = false;
  /** The client has half-closed: our side ends once every request it sent is answered. */
  #ended = false;
  /** The connection went to node:http: nothing here touches it any more. */
  #left = false;

  constructor(socket: Socket, options: LeanOptions) {
    this.socket = socket;
    this.#options = options;
    this.keepAliveSeconds = Math.floor(options.keepAliveMs / 1000);
    this.#listen('on');
    const wait = options.headerTimeoutMs || options.keepAliveMs;
    if (wait > 0) socket.setTimeout(wait);
  }

  /** Adds, or removes when the connection leaves, every listener the lean path keeps on the socket. */
  #listen(method: 'on' | 'off'): void {
    this.socket[method]('data', this.#onData)
      [method]('timeout', this.#onTimeout)
      [method]('drain', this.#onDrain)
      [method]('close', this.#onClose)
      [method]('end', this.#onEnd)
      [method]('error', noop);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
    if (this.#current) {
      if (this.#buffer.length > PIPELINE_MAX) this.socket.pause();
      return;
    }
    this.#next();
  };

  /** Serves the next request in the buffer, or leaves for node:http if it cannot. */
  #next(): void {
    const buffer = this.#buffer;
    if (buffer === undefined || this.#closing) return;
    const head = parseLean(buffer, this.#options.limits);
    if (head === undefined) {
      this.#leave();
      return;
    }
    this.#buffer = head.length < buffer.length ? buffer.subarray(head.length) : undefined;
    const { keepAliveMs, headerTimeoutMs } = this.#options;
    if (this.#served++ === 0 && headerTimeoutMs > 0 && headerTimeoutMs !== keepAliveMs)
      this.socket.setTimeout(keepAliveMs);
    const req = new LeanRequest(head, this.socket);
    const res = new LeanResponse(req, this, head.keepAlive && keepAliveMs > 0);
    this.#current = res;
    this.#options.request(req, res);
  }

  /** The response in flight has handed its last byte to the socket. */
  readonly written = (err?: Error | null): void => {
    const res = this.#current;
    // A failed write destroys the socket, whose 'close' cuts the response.
    if (err || res === undefined) return;
    this.#current = undefined;
    res.sent();
    if (!res.shouldKeepAlive) {
      this.#closing = true;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    this.#next();
    if (this.#ended && !this.#left && this.#current === undefined) this.socket.end();
  };

  #leave(): void {
    const socket = this.socket;
    this.#left = true;
    this.#listen('off');
    socket.setTimeout(0);
    log.debug(`Connection from ip=${socket.remoteAddress} continues on node:http`);
    const buffer = this.#buffer;
    this.#buffer = undefined;
    if (!socket.readableEnded) {
      if (buffer) socket.unshift(buffer);
      this.#options.fallback(socket);
      return;
    }
    // The client's end was read while a response was in flight, and a stream takes nothing back after its
    // end: node:http is given the bytes and then the end, through the listeners it has just added.
    const ending = new Set(socket.listeners('end'));
    this.#options.fallback(socket);
    if (buffer) socket.emit('data', buffer);
    for (const listener of socket.listeners('end')) if (!ending.has(listener)) listener.call(socket);
  }

  readonly #onTimeout = (): void => {
    // An app may take its time; only a connection waiting for a request times out.
    if (this.#current) return;
    if (this.#served === 0 && this.#options.headerTimeoutMs > 0) this.#options.timedOut(this.socket);
    else this.socket.destroy();
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    // Everything received was served or left to node:http when it arrived, so nothing waits unless a
    // response is in flight. A response that closed the connection has ended our side already (a second
    // end() builds an error to pass to no one).
    if (this.#current === undefined && !this.#closing) this.socket.end();
  };

  readonly #onDrain = (): void => {
    this.#current?.emit('drain');
  };

  readonly #onClose = (): void => {
    this.#current?.cut();
    this.#current = undefined;
    this.#buffer = undefined;
  };
}

function noop(): void {}
