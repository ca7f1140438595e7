import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../helpers/tools.ts';

export interface H2loadRequest {
  /** When the request was sent, in ms since the epoch (to line up runs made at the same time). */
  at: number;
  status: number;
  ms: number;
}

export interface H2loadRun {
  /** Every request, in the order sent. */
  requests: H2loadRequest[];
  /** How long h2load says the run took, in seconds. */
  seconds: number;
  raw: string;
}

export interface H2loadOptions {
  connections: number;
  durationS: number;
  /**
   * Without a rate: open the connections one at a time, this many ms apart, and stop after about
   * `durationS` seconds' worth of requests at `expectedRate`. Opened all at once, the first worker to wake
   * can take nearly all of them before its siblings get the CPU (97 of 100 seen on 2 cores), and a closed
   * loop over them measures that worker alone; one at a time, each lands on a worker that is waiting.
   */
  ramp?: { everyMs: number; expectedRate: number };
  /**
   * A constant total rate (requests a second), split evenly over the connections; without it each connection
   * sends its next request as soon as the last is answered.
   */
  rate?: number;
  /**
   * With a rate: run h2load as a user types it (`--rps` and `-D`), so every connection sends in the same
   * instant each tick and the rate arrives as bursts of one request per connection. Otherwise the
   * connections start one after another over one tick and the load really is constant.
   */
  bursts?: boolean;
}

/** The value at percentile `p` of values sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** The response times of the requests answered with `status`, sorted. */
export function latencies(requests: readonly H2loadRequest[], status: number): number[] {
  return requests
    .filter((r) => r.status === status)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
}

/**
 * h2load's --rps ticks each connection's timer from the moment the connection starts, and with every
 * connection started at once they all send in the same instant: a constant rate of 7 a second on 100
 * connections arrived as a burst of 100 requests every 143 ms. Starting the connections one after another
 * over one tick period (-r/--rate-period, whole milliseconds) spreads their ticks, so the load really is
 * constant. -r needs a request count (-n) instead of a duration.
 */
function rateArgs(rate: number, connections: number, durationS: number): string[] {
  const perConnection = rate / connections;
  const stepMs = 1000 / perConnection / connections;
  const perStep = Math.max(1, Math.round(1 / stepMs));
  return [
    '-n',
    String(Math.max(connections, Math.round(rate * durationS))),
    '--rps',
    perConnection.toFixed(3),
    '-r',
    String(perStep),
    `--rate-period=${Math.max(1, Math.round(stepMs * perStep))}ms`,
  ];
}

/** Runs h2load over HTTP/1.1, bounded by a hard timeout, and reads its per-request log. */
export function h2load(url: string, opts: H2loadOptions): Promise<H2loadRun> {
  const tool = requireTool('h2load', 'nghttp2-client');
  const dir = mkdtempSync(join(tmpdir(), 'tsu-h2load-'));
  const log = join(dir, 'requests.tsv');
  const args = ['--h1', '-c', String(opts.connections), `--log-file=${log}`];
  if (opts.rate && opts.bursts)
    args.push('--rps', (opts.rate / opts.connections).toFixed(3), '-D', String(opts.durationS));
  else if (opts.rate) args.push(...rateArgs(opts.rate, opts.connections, opts.durationS));
  else if (opts.ramp)
    args.push(
      '-n',
      String(Math.round(opts.ramp.expectedRate * opts.durationS)),
      '-r',
      '1',
      `--rate-period=${opts.ramp.everyMs}ms`,
    );
  else args.push('-D', String(opts.durationS));
  return new Promise((resolve, reject) => {
    execFile(tool, [...args, url], { timeout: (3 * opts.durationS + 30) * 1000 }, (err, stdout, stderr) => {
      try {
        if (err) return reject(new Error(`h2load failed: ${err.message}\n${stdout}${stderr}`));
        // Each line: start time (µs since the epoch), status, response time (µs), stream id.
        const rows = readFileSync(log, 'utf8')
          .split('\n')
          .map((line) => line.split('\t').map(Number))
          .filter((row) => row.length >= 3 && row.every(Number.isFinite));
        rows.sort((a, b) => a[0]! - b[0]!);
        const requests = rows.map(([start, status, micros]) => ({
          at: start! / 1000,
          status: status!,
          ms: micros! / 1000,
        }));
        const seconds = Number(/finished in ([\d.]+)s/.exec(stdout)?.[1] ?? Number.NaN);
        resolve({ requests, seconds, raw: stdout });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
