/**
 * The master's Prometheus endpoint. Workers send cumulative snapshots; the master sums them with what every
 * exited worker last reported, so a counter never goes backwards when workers die or a reload replaces them.
 */
import { createServer, type Server } from 'node:http';
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  type PrometheusContentType,
  Registry,
} from 'prom-client';
import { TsunicornError } from '../errors.js';
import type { WorkerState } from '../lifecycle/states.js';
import { log } from '../logging/logger.js';
import { parseAddress } from '../sockets/address.js';
import type { ArbiterObserver } from './observer.js';
import type { WorkerHandle } from './worker-handle.js';

type Snapshot = object[];

/** The `reason` label of `tsunicorn_worker_restarts_total`. */
const restartReasons = ['crash', 'timeout', 'max-requests', 'memory', 'reload'] as const;

/**
 * Why a worker was replaced: a hung worker the master killed is a timeout, an exit the master did not ask for
 * a crash; stops that replace nothing (shutdown, scale-down, an aborted reload) are not restarts.
 */
function restartReason(w: WorkerHandle): (typeof restartReasons)[number] | undefined {
  if (w.killedFor) return 'timeout';
  switch (w.stopReason) {
    case undefined:
      return 'crash';
    case 'reload':
    case 'max-requests':
    case 'memory':
      return w.stopReason;
    default:
      return undefined;
  }
}

/** How long an exited worker's last snapshot waits for a late IPC message before it is folded away. */
const FOLD_AFTER_MS = 5000;

/** Counters and histograms add up across a worker's death; gauges of a dead worker mean nothing. */
function cumulative(snapshot: Snapshot): Snapshot {
  return snapshot.filter((m) => {
    const type = (m as { type?: string }).type;
    return type === 'counter' || type === 'histogram';
  });
}

export class MetricsServer {
  readonly #registry = new Registry();
  readonly #live = new Map<WorkerHandle, Snapshot>();
  readonly #exited = new Map<WorkerHandle, { snapshot: Snapshot; at: number }>();
  #retired: Snapshot = [];
  readonly #restarts: Counter<'reason'>;
  readonly #handoffs: Counter;
  readonly #server: Server;

  private constructor(workers: () => readonly WorkerHandle[]) {
    collectDefaultMetrics({ register: this.#registry });
    this.#restarts = new Counter({
      name: 'tsunicorn_worker_restarts_total',
      help: 'Workers replaced, by reason: crash, timeout, max-requests, memory, reload.',
      labelNames: ['reason'] as const,
      registers: [this.#registry],
    });
    for (const reason of restartReasons) this.#restarts.inc({ reason }, 0);
    this.#handoffs = new Counter({
      name: 'tsunicorn_connection_handoffs_total',
      help: 'Connections a full worker passed to the master to be served by another; a steady rate means every worker is busy.',
      registers: [this.#registry],
    });
    const states: WorkerState[] = ['spawned', 'booting', 'ready', 'draining'];
    new Gauge({
      name: 'tsunicorn_workers',
      help: 'Worker processes, by lifecycle state.',
      labelNames: ['state'] as const,
      registers: [this.#registry],
      collect() {
        const all = workers();
        for (const state of states) this.set({ state }, all.filter((w) => w.state === state).length);
      },
    });
    this.#server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('Not found: metrics are at /metrics\n');
        return;
      }
      this.render().then(
        (text) => res.writeHead(200, { 'content-type': this.#registry.contentType }).end(text),
        (err) => {
          log.exception('Cannot render metrics', err);
          res.writeHead(500).end();
        },
      );
    });
  }

  /** Listens on `HOST:PORT`; a bind failure throws, as for the app's own listeners. */
  static async start(bind: string, workers: () => readonly WorkerHandle[]): Promise<MetricsServer> {
    const a = parseAddress(bind);
    if (a.kind !== 'tcp') throw new Error(`--metrics-bind needs HOST:PORT, got ${bind}`);
    const metrics = new MetricsServer(workers);
    await new Promise<void>((resolve, reject) => {
      metrics.#server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new TsunicornError('TSU_ERR_BIND', `--metrics-bind ${bind}: ${err.code ?? err.message}`)),
      );
      metrics.#server.listen(a.port, a.host, () => resolve());
    });
    const address = metrics.#server.address();
    const port = typeof address === 'object' && address ? address.port : a.port;
    log.info(`Metrics at: http://${a.host}:${port}/metrics`);
    return metrics;
  }

  async render(): Promise<string> {
    const now = Date.now();
    const stale = [...this.#exited].filter(([, e]) => now - e.at > FOLD_AFTER_MS);
    if (stale.length) {
      const folded = AggregatorRegistry.aggregate([this.#retired, ...stale.map(([, e]) => e.snapshot)]);
      this.#retired = (await folded.getMetricsAsJSON()) as Snapshot;
      for (const [w] of stale) this.#exited.delete(w);
    }
    const workers = AggregatorRegistry.aggregate<PrometheusContentType>([
      this.#retired,
      ...[...this.#exited.values()].map((e) => e.snapshot),
      ...this.#live.values(),
    ]);
    return Registry.merge([this.#registry, workers]).metrics();
  }

  readonly observer: Partial<ArbiterObserver> = {
    workerMessage: (w, message) => {
      if (message.type === 'handoff') this.#handoffs.inc();
      if (message.type !== 'metrics' || !Array.isArray(message.metrics)) return;
      const exited = this.#exited.get(w);
      if (exited) exited.snapshot = cumulative(message.metrics as Snapshot);
      else this.#live.set(w, message.metrics as Snapshot);
    },
    workerExited: (w) => {
      const snapshot = this.#live.get(w);
      this.#live.delete(w);
      this.#exited.set(w, { snapshot: cumulative(snapshot ?? []), at: Date.now() });
      const reason = restartReason(w);
      if (reason) this.#restarts.inc({ reason });
    },
  };

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
