import { format } from 'node:util';
import type { CustomLogger } from '../lifecycle/hooks.js';
import { type LogSink, openSink } from './sink.js';

export const levels = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type Level = (typeof levels)[number];

const rank: Record<Level, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

let threshold = rank.info;
let sink: LogSink = openSink('-', 'stderr');
let json = false;
let custom: CustomLogger | undefined;
/** Everything USR1 must reopen: the error log and, where one is open, the access log. */
const reopeners = new Set<() => void>();
const listeners = new Set<(level: Level, exception: boolean) => void>();

export function setLogLevel(level: Level): void {
  threshold = rank[level];
}

export interface ErrorLogOptions {
  /** `-` for stderr, else a file path. */
  readonly file: string;
  readonly json: boolean;
  readonly logger?: CustomLogger | undefined;
}

/** Points the error log at its destination; the previous file, if any, is closed. */
export function configureErrorLog(options: ErrorLogOptions): void {
  const next = openSink(options.file, 'stderr');
  sink.close();
  sink = next;
  json = options.json;
  custom = options.logger;
}

/** Registers something USR1 must reopen; returns the unregistration. */
export function onReopen(reopen: () => void): () => void {
  reopeners.add(reopen);
  return () => reopeners.delete(reopen);
}

/** Reopens every log file by name (USR1), so logrotate can rename them away. */
export function reopenLogFiles(): void {
  sink.reopen();
  for (const reopen of reopeners) {
    try {
      reopen();
    } catch (err) {
      emit('error', [`Cannot reopen a log file: ${(err as Error).message}`]);
    }
  }
}

/** Raw lines into the error log, bypassing format and level: the app's captured output. */
export function writeErrorLog(lines: string): void {
  sink.write(lines);
}

/** Observes every line logged at or above the threshold (statsd counts them). */
export function onLog(listener: (level: Level, exception: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
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

const customMethods: Record<Level, (keyof CustomLogger)[]> = {
  debug: ['debug', 'info'],
  info: ['info'],
  warning: ['warning', 'warn', 'info'],
  error: ['error', 'warning', 'warn', 'info'],
  critical: ['critical', 'fatal', 'error', 'info'],
};

function emit(level: Level, args: unknown[], exception = false): void {
  if (rank[level] < threshold) return;
  for (const listener of listeners) listener(level, exception);
  const message = format(...args);
  if (custom) {
    const method = customMethods[level].find((m) => typeof custom![m] === 'function');
    if (method) {
      custom[method]!(message);
      return;
    }
  }
  // One write per line: master and workers share the destination (see sink.ts).
  sink.write(
    json
      ? `${JSON.stringify({ time: new Date().toISOString(), level, pid: process.pid, msg: message })}\n`
      : `[${timestamp()}] [${process.pid}] [${level.toUpperCase()}] ${message}\n`,
  );
}

export const log = {
  debug: (...args: unknown[]) => emit('debug', args),
  info: (...args: unknown[]) => emit('info', args),
  warning: (...args: unknown[]) => emit('warning', args),
  error: (...args: unknown[]) => emit('error', args),
  critical: (...args: unknown[]) => emit('critical', args),
  /** An error with its stack, at ERROR. */
  exception: (message: string, err: unknown) =>
    emit('error', [`${message}\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`], true),
};
export type Logger = typeof log;
