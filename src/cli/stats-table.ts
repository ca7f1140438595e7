import type { StatsView, WorkerView } from '../control/protocol.js';

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)}M`;

function duration(s: number): string {
  if (s < 120) return `${Math.floor(s)}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

export function masterLine(stats: StatsView): string {
  const m = stats.master;
  return (
    `master ${m.pid}  ${m.app}  class ${m.workerClass}  workers ${stats.workers.length}/${m.target}  ` +
    `generation ${m.generation}  reloads ${m.reloads}  up ${duration(m.uptimeS)}` +
    `${m.draining ? '  DRAINING' : ''}\nlistening ${m.listeners.join(', ')}`
  );
}

/** The worker table of `ctl stats` and `top`; `rates` adds a requests/s column. */
export function workerTable(workers: readonly WorkerView[], rates?: ReadonlyMap<number, number>): string[] {
  const header = [
    'PID',
    'ID',
    'AGE',
    'GEN',
    'STATE',
    'REQS',
    ...(rates ? ['REQ/S'] : []),
    'INFLIGHT',
    'RSS',
    'HEAP',
    'LOOP ms',
    'UP',
  ];
  const rows = workers.map((w) => [
    String(w.pid),
    String(w.id),
    String(w.age),
    String(w.generation),
    w.state,
    String(w.requests),
    ...(rates ? [(rates.get(w.pid) ?? 0).toFixed(0)] : []),
    String(w.inFlight),
    mib(w.rss),
    mib(w.heapUsed),
    w.eventLoopDelayMs.toFixed(1),
    duration(w.uptimeS),
  ]);
  return table(header, rows);
}
