import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { log } from '../logging/logger.js';
import type { AppBinding } from './adapters/adapter.js';
import { type Connection, connectionOf } from './edge/connection.js';
import {
  defaultEdgeSettings,
  type EdgeSettings,
  edgeServerOptions,
  installEdge,
  limitsOf,
  ms,
  refuseTimedOut,
  settle,
} from './edge/index.js';
import type { streamAdmission } from './h2/edge.js';
import type { H2Front } from './h2/front.js';
import { answerProbe, type HealthSettings } from './health.js';
import { LeanHttp1 } from './lean/connection.js';
import {
  defaultOverloadSettings,
  LoadShedder,
  type OverloadSettings,
  respondOverloaded,
} from './overload.js';
import { type ProxySettings, trustProxies } from './proxy.js';
import { type ProxyProtocolSettings, proxyProtocolGate } from './proxy-protocol.js';
import { nodeRequestsNeeded, observeClose, observeRequest } from './request-observer.js';
import { type HttpProtocol, type TlsSettings, type TlsWrapper, tlsWrapper } from './tls.js';
import { defaultUpgradeSettings, LongLived, type UpgradeSettings } from './upgrades.js';
import { batchWrites } from './write-batch.js';

/** Limits, timeouts and shedding of the HTTP edge (docs/http.md); what is not given keeps its default. */
export type HttpSettings = Partial<
  EdgeSettings &
    HealthSettings &
    OverloadSettings &
    ProxySettings &
    ProxyProtocolSettings &
    TlsSettings &
    UpgradeSettings & {
      /** Set by a worker class that can only serve HTTP/1.1: why, for the log line at start. */
      readonly http1Only: string;
      /** --no-lean-http, or a worker class that needs node:http's own objects for every request. */
      readonly noLeanHttp: boolean;
      /** --no-write-batching, or a worker class that never has two responses to batch. */
      readonly noWriteBatching: boolean;
    }
>;

/**
 * How long a connection must have been quiet, once draining began, before it is closed. A keep-alive client
 * that sends within this window gets its answer with `Connection: close` instead of a reset.
 */
const DRAIN_IDLE_GRACE_MS = 1000;
const DRAIN_SWEEP_MS = 250;

/** The edge's check of one request, HTTP/1.1 or HTTP/2: false means it was refused and answered. */
type Admit = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What only TLS needs, and HTTP/2 when ALPN offers it: loaded by HttpServer.create() when TLS is on. */
interface Secure {
  readonly wrap: TlsWrapper;
  readonly h2:
    | { readonly H2Front: typeof H2Front; readonly streamAdmission: typeof streamAdmission }
    | undefined;
}

/**
 * The worker's HTTP server. It never listens itself: the worker class accepts connections and hands them
 * over with accept(), which lets the class decide where each connection is served.
 */
export class HttpServer {
  readonly server: Server;
  /** HTTP/1.1 connections; each carries its Connection record, which lists its responses in flight. */
  readonly #connections = new Set<Socket>();
  /** HTTP/2 responses not yet closed. */
  readonly #h2Responses = new Set<ServerResponse>();
  /** `close` listeners shared by every response and connection: nothing is allocated per request for them. */
  readonly #h1Closed: (this: ServerResponse) => void;
  readonly #h2Closed: (this: ServerResponse) => void;
  readonly #forget: (this: Socket) => void;
  readonly #longLived: LongLived;
  readonly #proxyProtocol: ReturnType<typeof proxyProtocolGate>;
  readonly #tls: TlsWrapper | undefined;
  /** HTTP/2 sessions, when ALPN offers `h2`. */
  readonly #h2: H2Front | undefined;
  /** TLS connections whose handshake has not yet said which protocol they speak. */
  readonly #handshakes = new Set<Socket>();
  readonly #handshakeTimeoutMs: number;
  /** Plain HTTP/1.1 connections of a fetch app start on the lean path (src/http/lean). */
  readonly #lean: LeanHttp1 | undefined;
  /** HTTP/1.1 connections write what a turn of the loop answered together (src/http/write-batch.ts). */
  readonly #batchWrites: boolean;
  #draining = false;
  /** --overload-503: connections beyond the worker's cap are taken only to be answered 503. */
  readonly shedsBeyondCap: boolean;

  /**
   * node:tls, node:http2 and the modules built on them are imported only when TLS is on: together about 20 ms
   * of the boot of a worker that serves plain HTTP.
   */
  static async create(app: AppBinding, settings: HttpSettings): Promise<HttpServer> {
    const protocols = offeredProtocols(app, settings);
    const wrap = await tlsWrapper(settings, protocols);
    if (!wrap) return new HttpServer(app, settings, undefined);
    const h2 = protocols.includes('h2')
      ? await Promise.all([import('./h2/front.js'), import('./h2/edge.js')]).then(
          ([{ H2Front }, { streamAdmission }]) => ({ H2Front, streamAdmission }),
        )
      : undefined;
    return new HttpServer(app, settings, { wrap, h2 });
  }

  private constructor(app: AppBinding, settings: HttpSettings, secure: Secure | undefined) {
    const edge = { ...defaultEdgeSettings, ...settings };
    this.server = createServer(edgeServerOptions(edge));
    this.#proxyProtocol = proxyProtocolGate(settings, edge.headerTimeout * 1000);
    this.#tls = secure?.wrap;
    this.#batchWrites = !settings.noWriteBatching;
    this.#handshakeTimeoutMs = ms(edge.headerTimeout);
    const admit = installEdge(this.server, edge, this.#connections);
    const overload = { ...defaultOverloadSettings, ...settings };
    const trusted = trustProxies(settings);
    this.shedsBeyondCap = overload.overload503;
    const shedder = overload.overload503 ? new LoadShedder(overload.maxEventLoopDelay) : undefined;
    const draining = () => this.#draining;
    const connections = this.#connections;
    const h2Responses = this.#h2Responses;
    this.#h1Closed = function (this: ServerResponse) {
      const socket = this.req.socket as Socket;
      const c = connectionOf(socket);
      // HTTP/1.1 answers in order, so the oldest is the one that closes, but for a connection cut short.
      if (c.inFlight[0] === this) c.inFlight.shift();
      else {
        const i = c.inFlight.indexOf(this);
        if (i !== -1) c.inFlight.splice(i, 1);
      }
      // The drain's sweep is the only reader, so the clock is read only once it has begun.
      if (draining()) c.lastActivity = Date.now();
      observeClose();
      settle(socket, c);
    };
    this.#h2Closed = function (this: ServerResponse) {
      h2Responses.delete(this);
      observeClose();
    };
    this.#forget = function (this: Socket) {
      connections.delete(this);
    };
    /**
     * Every request, HTTP/1.1 (with its connection) or HTTP/2; `admitted` is the edge of its protocol. Probes
     * are answered at once and are not app requests: they are neither tracked nor observed.
     */
    const serve = (req: IncomingMessage, res: ServerResponse, admitted: Admit, c: Connection | undefined) => {
      // A draining worker answers each HTTP/1.1 request, probes included, with `Connection: close`.
      if (c && this.#draining) res.shouldKeepAlive = false;
      if (answerProbe(settings, req, res, this.#draining)) return;
      if (c) {
        c.inFlight.push(res);
        if (this.#draining) c.lastActivity = Date.now();
        res.on('close', this.#h1Closed);
      } else {
        h2Responses.add(res);
        res.on('close', this.#h2Closed);
      }
      observeRequest(req, res);
      // A refused request was answered by the edge; the app never sees it.
      if (!admitted(req, res) || !trusted(req, res)) return;
      if (c?.beyondCap) respondOverloaded(req, res, true);
      else if (shedder) shedder.handle(req, res, () => app.handle(req, res));
      else app.handle(req, res);
    };
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      serve(req, res, admit, connectionOf(req.socket)),
    );
    this.#lean = leanAllowed(app, settings, secure, this.#proxyProtocol)
      ? new LeanHttp1({
          limits: limitsOf(edge),
          keepAliveMs: ms(edge.keepAlive),
          headerTimeoutMs: this.#handshakeTimeoutMs,
          // The lean path's requests are admitted by its parser, which leaves anything the edge would
          // refuse to node:http; they get the same pipeline from the probes on. Its request and response
          // have the members of Node's that the pipeline reads (src/http/lean/exchange.ts).
          request: (req, res) =>
            serve(
              req as unknown as IncomingMessage,
              res as unknown as ServerResponse,
              admitLean,
              connectionOf(req.socket),
            ),
          fallback: (socket) => this.server.emit('connection', socket),
          timedOut: refuseTimedOut,
        })
      : undefined;
    if (secure?.h2) {
      // The compatibility API gives HTTP/2 streams the public HTTP/1 request and response API, which is all
      // the pipeline and the apps it lets through use.
      const admitStream = secure.h2.streamAdmission(edge) as unknown as Admit;
      this.#h2 = new secure.h2.H2Front(edge, (req, res) =>
        serve(req as unknown as IncomingMessage, res as unknown as ServerResponse, admitStream, undefined),
      );
    }
    for (const [event, listener] of app.events) this.server.on(event, listener);
    this.#longLived = new LongLived(this.server, app, { ...defaultUpgradeSettings, ...settings });
    // Node starts its header and request timeout checks on 'listening', which a server that is handed its
    // connections never emits by itself.
    this.server.emit('listening');
  }

  get connections(): number {
    return this.#connections.size + this.#handshakes.size + (this.#h2?.size ?? 0);
  }

  /** `beyondCap`: the worker is full and sheds (shedsBeyondCap); each request gets a 503 and the close. */
  accept(socket: Socket, beyondCap = false): void {
    // node:http turns Nagle's algorithm off on the connections it accepts itself (its noDelay option); these
    // come from the worker's listener or the master. With it on, the second part of a response written in
    // two (a chunked body's end, a stream) waited for the client's delayed ACK: 40 ms on a kept-alive
    // connection.
    socket.setNoDelay(true);
    // As on the connections node:http accepts itself: a client may half-close once its request is sent and
    // still read the answer (RFC 9112 §9.6). The worker's own listener would end our side at the client's
    // FIN, before an answer still being computed is written; node:http (httpAllowHalfOpen, set by the edge)
    // and the lean path end it once nothing is left to answer.
    socket.allowHalfOpen = true;
    if (this.#proxyProtocol) this.#proxyProtocol(socket, (s) => this.#serve(s, beyondCap));
    else this.#serve(socket, beyondCap);
  }

  #serve(plain: Socket, beyondCap: boolean): void {
    // An HTTP/2 session beyond the cap is served in full; its streams are still shed by loop delay.
    if (this.#h2 && this.#tls) this.#negotiate(this.#h2, this.#tls(plain), beyondCap);
    else this.#serveHttp1(this.#tls ? this.#tls(plain) : plain, beyondCap);
  }

  /** Serves a TLS connection by the protocol its handshake chose; HTTP/1.1 as before, HTTP/2 as sessions. */
  #negotiate(h2: H2Front, secure: TLSSocket, beyondCap: boolean): void {
    this.#handshakes.add(secure);
    // Nothing reads the connection before the handshake is done, so it gets --header-timeout to finish it.
    const timer =
      this.#handshakeTimeoutMs > 0 ? setTimeout(() => secure.destroy(), this.#handshakeTimeoutMs) : undefined;
    const settled = () => {
      clearTimeout(timer);
      this.#handshakes.delete(secure);
    };
    secure.once('close', settled);
    secure.once('secure', () => {
      secure.off('close', settled);
      settled();
      if (secure.alpnProtocol === 'h2') h2.accept(secure);
      else this.#serveHttp1(secure, beyondCap);
    });
  }

  #serveHttp1(socket: Socket, beyondCap = false): void {
    const c = connectionOf(socket);
    c.beyondCap = beyondCap;
    c.lastActivity = Date.now();
    this.#connections.add(socket);
    socket.once('close', this.#forget);
    if (this.#batchWrites) batchWrites(socket);
    if (this.#lean) this.#lean.accept(socket);
    else this.server.emit('connection', socket);
  }

  /**
   * Finishes what is in flight without taking new work: every later response says `Connection: close`, and
   * connections quiet for a grace period are closed. Resolves when no connection is left. The caller has
   * already stopped accepting.
   */
  drain(): Promise<void> {
    this.#draining = true;
    this.#h2?.drain();
    this.#longLived.drain({ [Symbol.iterator]: () => this.#openResponses() });
    for (const res of this.#openResponses()) if (!res.headersSent) res.shouldKeepAlive = false;
    const now = Date.now();
    for (const socket of this.#connections) {
      if (this.#longLived.holds(socket)) continue;
      const c = connectionOf(socket);
      c.lastActivity = Math.max(c.lastActivity, now);
      // Bytes of a request still arriving count as activity, so a slow upload is not cut.
      socket.on('data', () => {
        c.lastActivity = Date.now();
      });
    }
    return new Promise((resolve) => {
      const sweep = () => {
        const quietSince = Date.now() - DRAIN_IDLE_GRACE_MS;
        for (const socket of this.#connections) {
          if (this.#longLived.holds(socket)) continue;
          const c = connectionOf(socket);
          if (c.inFlight.length === 0 && c.lastActivity <= quietSince) socket.destroy();
        }
        this.#h2?.sweep(quietSince);
        if (this.connections === 0) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(sweep, DRAIN_SWEEP_MS);
      sweep();
    });
  }

  /** Responses not yet closed, read when asked: HTTP/1.1 ones from their connections, then HTTP/2 ones. */
  *#openResponses(): Generator<ServerResponse> {
    for (const socket of this.#connections) yield* connectionOf(socket).inFlight;
    yield* this.#h2Responses;
  }
}

/** A lean request was admitted by the parser that took it. */
const admitLean: Admit = () => true;

/**
 * Whether plain HTTP/1.1 connections start on the lean path: for fetch apps, which see Node's objects only
 * as an optional `env`, without TLS or the PROXY protocol, and unless hooks are handed each request.
 */
function leanAllowed(
  app: AppBinding,
  settings: HttpSettings,
  secure: Secure | undefined,
  proxyProtocol: unknown,
): boolean {
  if (app.kind !== 'fetch' || settings.noLeanHttp || secure || proxyProtocol) return false;
  const needs = nodeRequestsNeeded();
  if (needs) log.debug(`Serving HTTP/1.1 with node:http only: ${needs}`);
  return needs === undefined;
}

/**
 * What ALPN offers: `--http-protocols`, less HTTP/2 where it cannot serve, said once at start. HTTP/2 reaches
 * apps through Node's compatibility API; an app that cannot run on it, or a worker class that serves only
 * HTTP/1.1, keeps every client on HTTP/1.1 over TLS.
 */
function offeredProtocols(app: AppBinding, settings: HttpSettings): readonly HttpProtocol[] {
  const asked = settings.httpProtocols ?? ['h1'];
  if (!settings.certfile) return ['h1'];
  if (!asked.includes('h2')) {
    log.info('Serving HTTP/1.1 over TLS');
    return ['h1'];
  }
  const obstacle = settings.http1Only || app.http1Only;
  if (obstacle) {
    log.warning(`Serving HTTP/1.1 only over TLS, not HTTP/2 as --http-protocols asks: ${obstacle}`);
    return ['h1'];
  }
  log.info('Serving HTTP/2 and HTTP/1.1 over TLS (ALPN h2, http/1.1)');
  return ['h1', 'h2'];
}
