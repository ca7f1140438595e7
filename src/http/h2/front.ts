/**
 * HTTP/2 sessions on TLS connections that chose `h2` by ALPN (`--http-protocols h1,h2`). Requests reach the
 * worker's one request pipeline through Node's compatibility API, so fetch apps and `(req, res)` listeners
 * run unchanged; connections that chose `http/1.1` never come here.
 */
import {
  createServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { log } from '../../logging/logger.js';
import { type EdgeSettings, limitsOf } from '../edge/index.js';
import { H2Response } from './response.js';

/**
 * Streams one session may have open at once. Node's default is unbounded; nginx allows 128 and Go 250. Each
 * stream is a request in the worker, so this also bounds what one connection can put in flight.
 */
const MAX_CONCURRENT_STREAMS = 128;

/** RFC 9113 §6.5.2 counts 32 bytes of overhead per field in SETTINGS_MAX_HEADER_LIST_SIZE. */
const FIELD_OVERHEAD = 32;
const PSEUDO_FIELDS = 5;

interface Activity {
  readonly streams: Set<ServerHttp2Stream>;
  lastActivity: number;
}

export type H2Listener = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

export class H2Front {
  readonly #server: Http2Server;
  readonly #sessions = new Map<ServerHttp2Session, Activity>();
  readonly #headerTimeoutMs: number;
  readonly #keepAlive: boolean;
  #draining = false;

  constructor(edge: EdgeSettings, onRequest: H2Listener) {
    const limits = limitsOf(edge);
    this.#server = createServer(
      {
        Http2ServerResponse: H2Response,
        // Above the edge's own limits, so a request over them gets its 431 rather than a reset from nghttp2.
        maxHeaderListPairs: limits.fields + PSEUDO_FIELDS + 1,
        settings: {
          maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
          maxHeaderListSize: limits.headerBytes + (limits.fields + PSEUDO_FIELDS + 1) * FIELD_OVERHEAD,
        },
      },
      onRequest,
    );
    this.#headerTimeoutMs = Math.max(0, Math.round(edge.headerTimeout * 1000));
    this.#keepAlive = edge.keepAlive > 0;
    // Node calls a session idle when no frame moved either way for this long.
    if (this.#keepAlive) this.#server.setTimeout(Math.round(edge.keepAlive * 1000));
    this.#server.on('timeout', (session: ServerHttp2Session) => this.#idle(session));
    this.#server.on('session', (session: ServerHttp2Session) => this.#track(session));
    this.#server.on('sessionError', (err: Error, session: ServerHttp2Session) => {
      log.debug(`HTTP/2 session from ip=${session.socket?.remoteAddress ?? '-'} failed: ${err.message}`);
    });
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Takes a TLS connection whose handshake chose `h2`. */
  accept(socket: TLSSocket): void {
    // Only a tls.Server clears `secureConnecting` after the handshake; a session on a socket that still says
    // so would wait for a `secureConnect` that has already happened.
    (socket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
    this.#server.emit('connection', socket);
  }

  #track(session: ServerHttp2Session): void {
    const activity: Activity = { streams: new Set(), lastActivity: Date.now() };
    this.#sessions.set(session, activity);
    // A session that opens no stream is a slow client's, closed after --header-timeout as an HTTP/1.1
    // connection that sends no request is.
    const firstStream =
      this.#headerTimeoutMs > 0 ? setTimeout(() => session.close(), this.#headerTimeoutMs) : undefined;
    firstStream?.unref();
    session.once('close', () => {
      clearTimeout(firstStream);
      this.#sessions.delete(session);
    });
    session.on('stream', (stream: ServerHttp2Stream) => {
      clearTimeout(firstStream);
      activity.streams.add(stream);
      activity.lastActivity = Date.now();
      // This stream is served; the GOAWAY tells the client to send the next one elsewhere.
      if (this.#draining) session.close();
      stream.once('close', () => {
        activity.streams.delete(stream);
        activity.lastActivity = Date.now();
        // Gunicorn's keepalive 0: the connection closes once its requests are answered.
        if (!this.#keepAlive && activity.streams.size === 0) session.close();
      });
    });
  }

  /**
   * Nothing moved for --keep-alive. Without streams, the session closes. With output waiting, the client
   * stopped reading and flow control holds the responses forever: the session is cut, as an HTTP/1.1
   * connection whose output stalls is. Otherwise the app is still working on its answers.
   */
  #idle(session: ServerHttp2Session): void {
    const activity = this.#sessions.get(session);
    if (!activity || activity.streams.size === 0) session.close();
    else if ([...activity.streams].some((s) => s.bufferSize > 0)) {
      log.debug(`Closing HTTP/2 session from ip=${session.socket?.remoteAddress ?? '-'}: it stopped reading`);
      session.destroy();
    }
  }

  /**
   * Closes every session with streams in flight: its GOAWAY names the last stream it received, those streams
   * finish, and the client sends later requests elsewhere. An idle session is left its grace period (see
   * `sweep`), so a client that connected just now gets its first request served rather than a GOAWAY.
   *
   * No early GOAWAY naming the highest stream id ("stop soon") is sent: nghttp2 treats any GOAWAY it did not
   * send as a shutdown notice as final and silently ignores streams opened after it, which would hang them.
   */
  drain(): void {
    this.#draining = true;
    for (const [session, activity] of this.#sessions) if (activity.streams.size > 0) session.close();
  }

  /**
   * Closes each session without streams that has been quiet since `quietSince`. A stream crossing its
   * GOAWAY on the wire is not processed, which the GOAWAY's last stream id tells the client, so it may retry
   * it safely (RFC 9113 §6.8).
   */
  sweep(quietSince: number): void {
    for (const [session, activity] of this.#sessions) {
      if (activity.streams.size === 0 && activity.lastActivity <= quietSince) session.close();
    }
  }
}
