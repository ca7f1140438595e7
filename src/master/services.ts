/**
 * What the master runs beside supervision: config-file hooks, statsd and the Prometheus endpoint, all fed
 * by the arbiter's observer events.
 */
import type { Config } from '../config/table.js';
import type { HookRunner, ServerInfo, WorkerInfo } from '../lifecycle/hooks.js';
import { Statsd } from '../logging/statsd.js';
import type { MetricsServer } from './metrics.js';
import { type ArbiterObserver, observers } from './observer.js';
import type { WorkerHandle } from './worker-handle.js';

const STATSD_GAUGE_EVERY_MS = 1000;

function workerInfo(w: WorkerHandle): WorkerInfo {
  return { pid: w.pid, id: w.id, age: w.age, generation: w.generation };
}

export interface MasterServices {
  readonly server: ServerInfo;
  readonly observer: ArbiterObserver;
  /** Late-bound: the arbiter that owns the workers exists only after the services. */
  setWorkers(workers: () => readonly WorkerHandle[]): void;
  close(): Promise<void>;
}

export async function startMasterServices(config: Config, hooks: HookRunner): Promise<MasterServices> {
  let current = config;
  let workers: () => readonly WorkerHandle[] = () => [];
  const server: ServerInfo = {
    pid: process.pid,
    get config() {
      return current;
    },
  };

  const fromHooks: Partial<ArbiterObserver> = {
    beforeSpawn: ({ id, age, generation }) => void hooks.run('beforeFork', server, { id, age, generation }),
    workerExited: (w, code, signal) => void hooks.run('onChildExit', server, workerInfo(w), { code, signal }),
    workerAborted: (w) => void hooks.run('onWorkerAbort', server, workerInfo(w)),
    targetChanged: (next, old) => void hooks.run('onWorkerCountChange', server, next, old),
    reloaded: (next) => {
      current = next;
      void hooks.run('onReload', server);
    },
    beforeReexec: () => void hooks.run('beforeReexec', server),
  };

  const statsd = config.statsdHost
    ? new Statsd({ host: config.statsdHost, prefix: config.statsdPrefix, tags: config.dogstatsdTags })
    : undefined;
  const gauge = statsd
    ? setInterval(() => statsd.gauge('tsunicorn.workers', workers().length), STATSD_GAUGE_EVERY_MS).unref()
    : undefined;

  let metrics: MetricsServer | undefined;
  if (config.metricsBind) {
    // prom-client is loaded only when metrics are on.
    const { MetricsServer } = await import('./metrics.js');
    metrics = await MetricsServer.start(config.metricsBind, () => workers());
  }

  return {
    server,
    observer: observers(fromHooks, metrics?.observer ?? {}),
    setWorkers(next) {
      workers = next;
    },
    async close() {
      clearInterval(gauge);
      statsd?.close();
      await metrics?.close();
    },
  };
}
