import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../helpers/tools.ts';

export interface H2loadRun {
  /** Responses by status code. */
  statuses: Map<number, number>;
  /** Response times in ms by status code, sorted. */
  latencies: Map<number, number[]>;
  raw: string;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Runs h2load over HTTP/1.1 for `durationS`, bounded by a hard timeout, and reads its per-request log. */
export function h2load(
  url: string,
  opts: { connections: number; durationS: number; rpsPerConnection?: number },
): Promise<H2loadRun> {
  const tool = requireTool('h2load', 'nghttp2-client');
  const log = join(mkdtempSync(join(tmpdir(), 'tsu-h2load-')), 'requests.tsv');
  const args = ['--h1', '-c', String(opts.connections), '-D', String(opts.durationS), `--log-file=${log}`];
  if (opts.rpsPerConnection) args.push('--rps', opts.rpsPerConnection.toFixed(3));
  return new Promise((resolve, reject) => {
    execFile(tool, [...args, url], { timeout: (opts.durationS + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`h2load failed: ${err.message}\n${stdout}${stderr}`));
      const statuses = new Map<number, number>();
      const latencies = new Map<number, number[]>();
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        const [, status, micros] = line.split('\t');
        if (!status || !micros) continue;
        const code = Number(status);
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
        const list = latencies.get(code) ?? [];
        list.push(Number(micros) / 1000);
        latencies.set(code, list);
      }
      for (const list of latencies.values()) list.sort((a, b) => a - b);
      resolve({ statuses, latencies, raw: stdout });
    });
  });
}
