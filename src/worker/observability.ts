/**
 * Everything a worker reports besides serving: error log destination, captured output, access log, statsd,
 * Prometheus snapshots and the config file's worker hooks, wired to every request through the HTTP server's
 * request observer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { onShed } from '../http/overload.js';
import { addRequestObserver, requireNodeRequests } from '../http/request-observer.js';
import type { WorkerBoot, WorkerMessage } from '../ipc/messages.js';
import { HookRunner, type WorkerInfo } from '../lifecycle/hooks.js';
import { type AccessLog, openAccessLog } from '../logging/access-log.js';
import { captureOutput } from '../logging/capture.js';
import { configureErrorLog, log, onReopen } from '../logging/logger.js';
import type { WorkerMetrics } from '../logging/metrics.js';

const METRICS_EVERY_MS = 1000;

export interface Observability {
  readonly hooks: HookRunner;
  readonly worker: WorkerInfo;
  /** Runs onWorkerExit and hands over the last metrics and log lines; resolves when it is safe to exit. */
  beforeExit(): Promise<void>;
}

/** Counts body bytes as they are written; Content-Length is absent for chunked responses. */
function countBytes(res: ServerResponse): () => number {
  let bytes = 0;
  const add = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string')
      bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
  };
  const { write, end } = res;
  // HTTP/2's compatibility response passes end()'s chunk through its own write(): count it once.
  let ending = false;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (!ending) add(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') add(chunk, rest[0]);
    ending = true;
    try {
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } finally {
      ending = false;
    }
  } as typeof res.end;
  return () => bytes;
}

export async function setUpObservability(
  boot: WorkerBoot,
  send: (message: WorkerMessage) => Promise<void>,
): Promise<Observability> {
  const { config } = boot;
  const worker: WorkerInfo = { pid: process.pid, id: boot.id, age: boot.age, generation: boot.generation };
  // The config machinery (the whole settings table) is imported only when there is a file to read hooks
  // from, and statsd's dgram only when it is on: a worker without them boots faster.
  const file = config.config
    ? await import('../config/load.js')
        .then(({ loadFileHooks }) => loadFileHooks(config.config, process.cwd()))
        .catch((err) => {
          log.exception('Cannot load the hooks of the config file in this worker', err);
          return { hooks: {}, logger: undefined };
        })
    : { hooks: {}, logger: undefined };
  configureErrorLog({ file: config.errorLogfile, json: config.errorLogJson, logger: file.logger });
  if (config.captureOutput && config.errorLogfile !== '-') captureOutput();
  const hooks = new HookRunner(file.hooks);

  let access: AccessLog | undefined;
  if (config.accessLogfile) {
    access = openAccessLog({
      file: config.accessLogfile,
      format: config.accessLogformat,
      json: config.accessLogJson,
    });
    onReopen(access.reopen);
  }
  const statsd = config.statsdHost
    ? new (await import('../logging/statsd.js')).Statsd({
        host: config.statsdHost,
        prefix: config.statsdPrefix,
        tags: config.dogstatsdTags,
      })
    : undefined;
  let metrics: WorkerMetrics | undefined;
  let report: (() => Promise<void>) | undefined;
  if (config.metricsBind) {
    // prom-client is loaded only when metrics are on: a worker without them boots faster.
    const { workerMetrics } = await import('../logging/metrics.js');
    const m = workerMetrics(boot.id);
    metrics = m;
    onShed(() => m.shed());
    report = async () => send({ type: 'metrics', metrics: await m.snapshot() });
    setInterval(() => void report!().catch(() => {}), METRICS_EVERY_MS).unref();
  }

  const wantsBefore = hooks.has('beforeRequest');
  const wantsAfter = hooks.has('afterRequest');
  if (wantsBefore || wantsAfter)
    requireNodeRequests('the config file has beforeRequest or afterRequest hooks');
  if (access || statsd || metrics || wantsBefore || wantsAfter) {
    addRequestObserver((req: IncomingMessage, res: ServerResponse) => {
      const startedAt = new Date();
      const start = process.hrtime.bigint();
      const bytes = access ? countBytes(res) : () => 0;
      metrics?.started();
      if (wantsBefore) void hooks.run('beforeRequest', worker, req);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
        access?.log({ req, res, startedAt, durationMs, bytes: bytes() });
        statsd?.request(res.statusCode, durationMs);
        metrics?.finished(req.method ?? '', res.statusCode, durationMs / 1000);
        if (wantsAfter) void hooks.run('afterRequest', worker, req, res, durationMs);
      };
      res.once('finish', finish);
      res.once('close', finish);
    });
  }

  return {
    hooks,
    worker,
    async beforeExit() {
      await hooks.run('onWorkerExit', worker);
      access?.flush();
      await report?.().catch(() => {});
    },
  };
}
