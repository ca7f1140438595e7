/**
 * A worker's Prometheus metrics. The worker keeps cumulative values and sends a snapshot to the master about
 * once a second and once more before it exits; the master sums them over every worker, living or gone.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export function workerMetrics(workerId: number) {
  const registry = new Registry();
  const labels = { worker: String(workerId), pid: String(process.pid) };
  const requests = new Counter({
    name: 'tsunicorn_requests_total',
    help: 'Requests answered, by status and method.',
    labelNames: ['status', 'method'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tsunicorn_request_duration_seconds',
    help: 'Time from the request to the end of the response.',
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'tsunicorn_requests_in_flight',
    help: 'Requests being handled right now.',
    registers: [registry],
  });
  const loopDelay = new Gauge({
    name: 'tsunicorn_worker_event_loop_delay_seconds',
    help: "p99 of a worker's event-loop delay since its previous report.",
    labelNames: ['worker', 'pid'] as const,
    registers: [registry],
  });
  const rss = new Gauge({
    name: 'tsunicorn_worker_resident_memory_bytes',
    help: "A worker's resident set size.",
    labelNames: ['worker', 'pid'] as const,
    registers: [registry],
  });
  const heap = new Gauge({
    name: 'tsunicorn_worker_heap_used_bytes',
    help: "A worker's V8 heap in use.",
    labelNames: ['worker', 'pid'] as const,
    registers: [registry],
  });
  const shed = new Counter({
    name: 'tsunicorn_requests_shed_total',
    help: 'Requests answered 503 by --overload-503 because their worker was saturated.',
    registers: [registry],
  });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();

  return {
    started(): void {
      inFlight.inc();
    },
    finished(method: string, status: number, seconds: number): void {
      inFlight.dec();
      requests.inc({ method, status: String(status) });
      duration.observe(seconds);
    },
    shed(): void {
      shed.inc();
    },
    async snapshot(): Promise<MetricsSnapshot> {
      const memory = process.memoryUsage();
      rss.set(labels, memory.rss);
      heap.set(labels, memory.heapUsed);
      loopDelay.set(labels, delay.percentile(99) / 1e9);
      delay.reset();
      return registry.getMetricsAsJSON();
    },
  };
}
export type WorkerMetrics = ReturnType<typeof workerMetrics>;
