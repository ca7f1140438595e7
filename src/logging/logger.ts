import { format } from 'node:util';

export const levels = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Level = (typeof levels)[number];

const rank: Record<Level, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

let threshold = rank.info;

export function setLogLevel(level: Level): void {
  threshold = rank[level];
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

// Gunicorn's error-log timestamp: `[2026-11-25 09:00:00 +0000]`, local time with the UTC offset.
function timestamp(d = new Date()): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

function emit(level: Level, args: unknown[]): void {
  if (rank[level] < threshold) return;
  // One write per line: master and workers share stderr, and a single write() of a line keeps
  // lines from interleaving mid-way.
  process.stderr.write(`[${timestamp()}] [${process.pid}] [${level.toUpperCase()}] ${format(...args)}\n`);
}

export const log = {
  debug: (...args: unknown[]) => emit('debug', args),
  info: (...args: unknown[]) => emit('info', args),
  warning: (...args: unknown[]) => emit('warning', args),
  error: (...args: unknown[]) => emit('error', args),
  critical: (...args: unknown[]) => emit('critical', args),
  /** An error with its stack, at ERROR. */
  exception: (message: string, err: unknown) =>
    emit('error', [`${message}\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`]),
};
export type Logger = typeof log;
