import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../helpers/tools.ts';

export interface WrkResult {
  requests: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  non2xx: number;
  p99Ms: number;
  /** Responses per x-generation value (when the script counts them). */
  generations: Record<string, number>;
  raw: string;
}

/** Counts each response's x-generation header per thread and prints the totals when the run ends. */
const countGenerations = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) gens = {} end
function response(status, headers, body)
  local g = headers["x-generation"] or "none"
  gens[g] = (gens[g] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local g = t:get("gens")
    for k, v in pairs(g) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("GEN %s %d\\n", k, v)) end
end
`;

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export interface WrkOptions {
  connections: number;
  seconds: number;
  threads?: number;
  close?: boolean;
  /** Lua prelude setting wrk.method/body/headers. */
  request?: string;
  timeoutSeconds?: number;
}

export function wrk(url: string, options: WrkOptions): Promise<WrkResult> {
  requireTool('wrk', 'wrk');
  const dir = mkdtempSync(join(tmpdir(), 'tsunicorn-wrk-'));
  const script = join(dir, 'script.lua');
  const headers = options.close ? 'wrk.headers["Connection"] = "close"\n' : '';
  writeFileSync(script, `${headers}${options.request ?? ''}\n${countGenerations}`);
  const args = [
    '-t',
    String(options.threads ?? 2),
    '-c',
    String(options.connections),
    '-d',
    `${options.seconds}s`,
    '--timeout',
    `${options.timeoutSeconds ?? 10}s`,
    '--latency',
    '-s',
    script,
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (options.seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stdout}`));
      const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)/.exec(stdout);
      const generations: Record<string, number> = {};
      for (const m of stdout.matchAll(/^GEN (\S+) (\d+)$/gm)) generations[m[1]!] = Number(m[2]);
      resolve({
        requests: num(/(\d+) requests in/),
        connectErrors: Number(errors?.[1] ?? 0),
        readErrors: Number(errors?.[2] ?? 0),
        writeErrors: Number(errors?.[3] ?? 0),
        timeouts: Number(errors?.[4] ?? 0),
        non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
        p99Ms: p99 ? toMs(p99[1]!, p99[2]!) : 0,
        generations,
        raw: stdout,
      });
    });
  });
}

export function errorCount(r: WrkResult): number {
  return r.connectErrors + r.readErrors + r.writeErrors + r.timeouts + r.non2xx;
}

/** A run's requests and every error class, as the figure lines print them. */
export function errorFields(r: WrkResult): Record<string, number> {
  return {
    requests: r.requests,
    errors: errorCount(r),
    connect: r.connectErrors,
    read: r.readErrors,
    write: r.writeErrors,
    timeout: r.timeouts,
    non2xx: r.non2xx,
  };
}

/** The one line per scenario that `npm run test:stress` prints and docs/reliability.md quotes. */
export function figure(name: string, fields: Record<string, string | number>): void {
  const text = Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  process.stdout.write(`FIGURE ${name}: ${text}\n`);
}
