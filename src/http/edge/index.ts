/**
 * The HTTP edge: Gunicorn's request limits, strict framing and slow-client timeouts on top of Node's parser.
 * Node parses; this module decides what reaches the app. Every refusal is answered with its status, a short
 * body and `Connection: close`, and logged as `Invalid request from ip=…: reason`.
 */
import { type IncomingMessage, type Server, type ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { log } from '../../logging/logger.js';
import { classify, describe, type ParserError } from './client-error.js';
import { type Connection, connectionOf } from './connection.js';
import { CHUNKED, checkHead, checkTrailers } from './framing.js';
import { limitsOf } from './limits.js';
import { quote, type Refusal, rawRefusal, refusal, writeRefusal } from './refusal.js';
import type { EdgeSettings } from './settings.js';

export { type Limits, limitsOf } from './limits.js';
export { defaultEdgeSettings, type EdgeSettings } from './settings.js';

/**
 * How long a refused connection keeps reading (and discarding) input after our answer. Closing a socket with
 * unread input makes the kernel send a reset, and a reset can destroy the answer before the client reads it.
 */
const LINGER_MS = 2000;

/** A setting in seconds as the whole milliseconds Node's timers take; 0 or less is 0 (off). */
export const ms = (seconds: number) => Math.max(0, Math.round(seconds * 1000));

/**
 * Node checks header and request timeouts on one interval (30 s by default), so a 10 s header timeout could
 * fire 40 s late. A quarter of the shortest timeout, within 50 ms–1 s, keeps the error small at a cost of one
 * pass over the connection list per tick.
 */
export function checkingIntervalMs(s: EdgeSettings): number {
  const timeouts = [ms(s.headerTimeout), ms(s.requestTimeout)].filter((t) => t > 0);
  if (timeouts.length === 0) return 1000;
  return Math.min(1000, Math.max(50, Math.floor(Math.min(...timeouts) / 4)));
}

/** Options for `http.createServer`; `installEdge` does the rest once the server exists. */
export function edgeServerOptions(s: EdgeSettings): ServerOptions {
  const limits = limitsOf(s);
  const requestTimeout = ms(s.requestTimeout);
  // Node refuses a header timeout longer than the request timeout; the shorter one wins either way.
  const headersTimeout =
    requestTimeout > 0
      ? Math.min(ms(s.headerTimeout) || requestTimeout, requestTimeout)
      : ms(s.headerTimeout);
  return {
    maxHeaderSize: limits.headerBytes,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: ms(s.keepAlive),
    connectionsCheckingInterval: checkingIntervalMs(s),
    // Gunicorn serves HTTP/1.1 requests without Host (clients behind old proxies send them); routing on a
    // missing Host is the app's call, as with Gunicorn.
    requireHostHeader: false,
  };
}

function peer(socket: Duplex | undefined): string {
  return (socket as Socket | undefined)?.remoteAddress ?? '-';
}

function warnInvalid(socket: Duplex | undefined, reason: string): void {
  // Gunicorn's line, word for word: operators grep for it.
  log.warning(`Invalid request from ip=${peer(socket)}: ${reason}`);
}

/**
 * Ends our side and reads on until the client ends too, for at most LINGER_MS, so unread input cannot turn
 * the close into a reset.
 */
function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  // Once both sides have ended, the socket destroys itself (autoDestroy), after our answer is flushed.
  socket.end();
}

/** Answers a refusal straight on the socket, outside any response, and closes it. */
function refuseRaw(socket: Socket, status: number): void {
  if (socket.writable) socket.write(rawRefusal(status));
  lingeringClose(socket);
}

/** A connection that sent no request within the header timeout: 408 and close, as for node:http's. */
export function refuseTimedOut(socket: Socket): void {
  log.debug(`Request timeout from ip=${peer(socket)}`);
  refuseRaw(socket, 408);
}

/**
 * Applies a parse error's outcome once every complete request in flight has been answered. The server calls
 * it whenever one of the connection's responses closes.
 */
export function settle(socket: Socket, c: Connection): void {
  const outcome = c.pending;
  if (outcome === undefined || c.inFlight.length > 0) return;
  c.pending = undefined;
  if (outcome === 'drop') {
    socket.destroy();
    return;
  }
  if (typeof outcome === 'object') refuseRaw(socket, outcome.status);
  else lingeringClose(socket);
}

/**
 * Installs the edge on a server created with `edgeServerOptions`, whose open connections the caller keeps in
 * `connections`. The returned `admit` must be called first for every request: false means the request was
 * refused and answered, and the app must not see it.
 *
 * Node starts its header and request timeout checks on the server's 'listening' event; a server that is
 * handed its connections with `emit('connection')` must emit 'listening' itself, after this call.
 */
export function installEdge(
  server: Server,
  s: EdgeSettings,
  connections: ReadonlySet<Socket>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limits = limitsOf(s);
  // One more than the limit, so a request over it is seen as such rather than silently trimmed by Node.
  server.maxHeadersCount = limits.fields + 1;
  // With Node's default (false), a client's half-close ends our side at once, before an answer still being
  // computed can be written; HTTP/1.1 lets a client half-close after its request and still read the answer.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;

  server.on('clientError', (err: ParserError, duplex: Duplex) => {
    const socket = duplex as Socket;
    const c = connectionOf(socket);
    if (c.refused) return;
    const outcome = classify(err);
    if (outcome === 'drop') {
      log.debug(`Connection from ip=${peer(socket)} failed: ${describe(err)}`);
      socket.destroy();
      return;
    }
    c.refused = true;
    if (typeof outcome === 'object') {
      // A timeout is the client's slowness, not a malformed request: a slowloris would flood the log.
      if (outcome.status === 408) log.debug(`Request timeout from ip=${peer(socket)}`);
      else warnInvalid(socket, outcome.reason);
    } else if (outcome === 'close') {
      log.debug(`Connection from ip=${peer(socket)} closed mid-request`);
    }
    // A request whose body failed to parse can never complete, so its app would wait forever: answer now.
    // Requests already complete get their answers first, as a pipelining client expects.
    const incomplete = c.inFlight.find((res) => !res.req.complete);
    if (incomplete) {
      if (outcome === 'after-response') return;
      if (typeof outcome === 'object') {
        answerMidBody(socket, c, outcome);
        return;
      }
      socket.destroy();
      return;
    }
    for (const res of c.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    c.pending = outcome;
    settle(socket, c);
  });

  /** Refuses a request whose body is already arriving: the app holds `res`, so the answer goes raw. */
  const refuseMidBody = (req: IncomingMessage, c: Connection, r: Refusal) => {
    c.refused = true;
    warnInvalid(req.socket, r.reason);
    answerMidBody(req.socket as Socket, c, r);
  };

  function answerMidBody(socket: Socket, c: Connection, r: Refusal): void {
    for (const res of c.inFlight) {
      if (res.headersSent) {
        // The app has started its answer; a second status line would corrupt it.
        socket.destroy();
        return;
      }
    }
    // Once our side is ended, Node buffers whatever the app writes to its response and never sends it.
    refuseRaw(socket, r.status);
  }

  /**
   * Counts a chunked body as Node's parser hands it over, without reading it for the app, and checks the
   * trailers before the app can see the end of the body. After a refusal the rest of the body is discarded,
   * so the parser keeps draining the socket while it lingers.
   */
  const guardChunkedBody = (req: IncomingMessage, c: Connection) => {
    const push = req.push;
    let received = 0;
    req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (c.refused) return true;
      if (chunk === null) {
        const bad = checkTrailers(req.rawTrailers);
        if (bad) {
          refuseMidBody(req, c, bad);
          return true;
        }
      } else if (limits.body > 0) {
        received += (chunk as Buffer).length;
        if (received > limits.body) {
          refuseMidBody(req, c, refusal(413, `Request body exceeds the limit of ${limits.body} bytes`));
          return true;
        }
      }
      return push.call(req, chunk, encoding);
    };
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, r: Refusal) => {
    warnInvalid(req.socket, r.reason);
    connectionOf(req.socket).refused = true;
    writeRefusal(res, r.status, { close: true });
  };

  // Gunicorn hands CONNECT to the app as an ordinary request; Node hands it to 'connect' listeners only, and
  // without one drops the connection unanswered. Unless the app listens for 'connect' itself, serve it as a
  // request, answered once, and close: no tunnel is opened.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    if (server.listenerCount('connect') > 1) return;
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => {
      res.detachSocket(socket as Socket);
      lingeringClose(socket as Socket);
    });
    socket.on('error', () => socket.destroy());
    socket.resume();
    if (!req.complete) req.push(null);
    server.emit('request', req, res);
  });

  const stallMs = ms(s.requestTimeout);
  if (stallMs > 0) {
    // A client that stops reading holds our output (and the app's memory) forever: close a connection whose
    // pending output has not moved for the request timeout, as nginx's send_timeout does.
    const timer = setInterval(() => {
      const now = Date.now();
      for (const socket of connections) {
        const c = connectionOf(socket);
        const pending = socket.writableLength;
        if (pending === 0) {
          c.stall = undefined;
          continue;
        }
        // bytesWritten counts queued bytes too; minus what is still pending, it is what the kernel took.
        const flushed = socket.bytesWritten - pending;
        if (!c.stall || c.stall.flushed !== flushed) c.stall = { flushed, since: now };
        else if (now - c.stall.since >= stallMs) {
          log.debug(`Closing connection from ip=${peer(socket)}: it stopped reading our output`);
          socket.destroy();
        }
      }
    }, checkingIntervalMs(s));
    timer.unref();
    server.once('close', () => clearInterval(timer));
  }

  // The server lists each response in its connection's inFlight before calling this, and calls settle() when
  // it closes: one `close` listener per response serves both.
  return function admit(req: IncomingMessage, res: ServerResponse): boolean {
    const c = connectionOf(req.socket);
    if (c.refused) {
      // A request pipelined behind a refused one: the connection closes once the refusal is out, and this
      // response, queued behind it, is never written.
      res.shouldKeepAlive = false;
      return false;
    }
    // Gunicorn's keepalive 0 closes every connection after its response; Node's keepAliveTimeout 0 would
    // instead keep idle connections open forever.
    if (s.keepAlive <= 0) res.shouldKeepAlive = false;
    const head = checkHead(req, limits);
    if (head !== undefined && head !== CHUNKED) {
      refuse(req, res, head);
      return false;
    }
    const length = limits.body > 0 ? req.headers['content-length'] : undefined;
    if (length !== undefined && Number(length) > limits.body) {
      refuse(
        req,
        res,
        refusal(413, `Request body of ${quote(length, 20)} bytes exceeds the limit of ${limits.body}`),
      );
      return false;
    }
    if (head === CHUNKED) guardChunkedBody(req, c);
    return true;
  };
}
