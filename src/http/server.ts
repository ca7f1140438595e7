import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AppBinding } from './adapters/adapter.js';
import { defaultEdgeSettings, type EdgeSettings, edgeServerOptions, installEdge } from './edge/index.js';
import { answerProbe, type HealthSettings } from './health.js';
import { defaultOverloadSettings, LoadShedder, type OverloadSettings } from './overload.js';
import { type ProxySettings, trustProxies } from './proxy.js';
import { type ProxyProtocolSettings, proxyProtocolGate } from './proxy-protocol.js';
import { observeRequest } from './request-observer.js';
import { type TlsSettings, tlsWrapper } from './tls.js';
import { defaultUpgradeSettings, LongLived, type UpgradeSettings } from './upgrades.js';

/** Limits, timeouts and shedding of the HTTP edge (docs/http.md); what is not given keeps its default. */
export type HttpSettings = Partial<
  EdgeSettings &
    HealthSettings &
    OverloadSettings &
    ProxySettings &
    ProxyProtocolSettings &
    TlsSettings &
    UpgradeSettings
>;

/**
 * How long a connection must have been quiet, once draining began, before it is closed. A keep-alive client
 * that sends within this window gets its answer with `Connection: close` instead of a reset.
 */
const DRAIN_IDLE_GRACE_MS = 1000;
const DRAIN_SWEEP_MS = 250;

interface Tracked {
  /** Requests on this connection whose response has not finished. */
  active: number;
  lastActivity: number;
}

/**
 * The worker's HTTP server. It never listens itself: the worker class accepts connections and hands them
 * over with accept(), which lets the class decide where each connection is served.
 */
export class HttpServer {
  readonly server: Server;
  readonly #connections = new Map<Socket, Tracked>();
  readonly #responses = new Set<ServerResponse>();
  readonly #longLived: LongLived;
  readonly #proxyProtocol: ReturnType<typeof proxyProtocolGate>;
  readonly #tls: ReturnType<typeof tlsWrapper>;
  #draining = false;
  #requests = 0;

  constructor(app: AppBinding, settings: HttpSettings) {
    const edge = { ...defaultEdgeSettings, ...settings };
    this.server = createServer(edgeServerOptions(edge));
    this.#proxyProtocol = proxyProtocolGate(settings, edge.headerTimeout * 1000);
    this.#tls = tlsWrapper(settings);
    const admit = installEdge(this.server, edge);
    const overload = { ...defaultOverloadSettings, ...settings };
    const trusted = trustProxies(settings);
    const shedder = overload.overload503 ? new LoadShedder(overload.maxEventLoopDelay) : undefined;
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#requests++;
      const tracked = this.#connections.get(req.socket);
      if (tracked) {
        tracked.active++;
        tracked.lastActivity = Date.now();
      }
      if (this.#draining) res.shouldKeepAlive = false;
      this.#responses.add(res);
      res.once('close', () => {
        this.#responses.delete(res);
        if (tracked) {
          tracked.active--;
          tracked.lastActivity = Date.now();
        }
      });
      if (answerProbe(settings, req, res, this.#draining)) return;
      observeRequest(req, res);
      // A refused request was answered by the edge; the app never sees it.
      if (!admit(req, res) || !trusted(req, res)) return;
      if (shedder?.shouldShed()) shedder.respond(req, res);
      else app.handle(req, res);
    });
    for (const [event, listener] of app.events) this.server.on(event, listener);
    this.#longLived = new LongLived(this.server, app, { ...defaultUpgradeSettings, ...settings });
    // Node starts its header and request timeout checks on 'listening', which a server that is handed its
    // connections never emits by itself.
    this.server.emit('listening');
  }

  get connections(): number {
    return this.#connections.size;
  }

  get requests(): number {
    return this.#requests;
  }

  accept(socket: Socket): void {
    if (this.#proxyProtocol) this.#proxyProtocol(socket, (s) => this.#serve(s));
    else this.#serve(socket);
  }

  #serve(plain: Socket): void {
    const socket = this.#tls ? this.#tls(plain) : plain;
    this.#connections.set(socket, { active: 0, lastActivity: Date.now() });
    socket.once('close', () => this.#connections.delete(socket));
    this.server.emit('connection', socket);
  }

  /**
   * Finishes what is in flight without taking new work: every later response says `Connection: close`, and
   * connections quiet for a grace period are closed. Resolves when no connection is left. The caller has
   * already stopped accepting.
   */
  drain(): Promise<void> {
    this.#draining = true;
    this.#longLived.drain(this.#responses);
    for (const res of this.#responses) if (!res.headersSent) res.shouldKeepAlive = false;
    const now = Date.now();
    for (const [socket, tracked] of this.#connections) {
      if (this.#longLived.holds(socket)) continue;
      tracked.lastActivity = Math.max(tracked.lastActivity, now);
      // Bytes of a request still arriving count as activity, so a slow upload is not cut.
      socket.on('data', () => {
        tracked.lastActivity = Date.now();
      });
    }
    return new Promise((resolve) => {
      const sweep = () => {
        const quietSince = Date.now() - DRAIN_IDLE_GRACE_MS;
        for (const [socket, tracked] of this.#connections) {
          if (this.#longLived.holds(socket)) continue;
          if (tracked.active === 0 && tracked.lastActivity <= quietSince) socket.destroy();
        }
        if (this.#connections.size === 0) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(sweep, DRAIN_SWEEP_MS);
      sweep();
    });
  }
}
