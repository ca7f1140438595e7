// Load generators. wrk (C, epoll) is preferred: on a 2-core box the generator shares the CPU with the
// server, and autocannon (node, one event loop per worker) saturates first, so its numbers measure
// autocannon as much as the server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function findWrk() {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (r.error) return null;
  const version = /wrk\s+(\S+)/.exec(`${r.stdout}${r.stderr}`);
  return { name: 'wrk', version: version ? version[1] : 'unknown' };
}

export function findAutocannon(benchDir) {
  const bin = join(benchDir, 'node_modules', '.bin', 'autocannon');
  return existsSync(bin) ? { name: 'autocannon', version: 'npm', bin } : null;
}

const luaDir = mkdtempSync(join(tmpdir(), 'tsunicorn-bench-lua-'));

function luaString(text) {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * A wrk script that sets the request and prints one JSON line with the summary in microseconds. A paced
 * request waits a random 0.5–1.5× of its connection's share of the period before each send, so the
 * connections do not fall into step; wrk times each request from its send, not from the wait.
 */
function wrkScript(request, connections) {
  const lines = [`wrk.method = ${luaString(request.method)}`];
  if (request.body !== undefined) lines.push(`wrk.body = ${luaString(request.body)}`);
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`);
  }
  if (request.paceRps) {
    const meanMs = (connections * 1000) / request.paceRps;
    lines.push(
      `function delay() return math.random(${Math.max(1, Math.round(meanMs / 2))}, ${Math.round((meanMs * 3) / 2)}) end`,
    );
  }
  lines.push(`
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`);
  const file = join(luaDir, `${request.name}.lua`);
  writeFileSync(file, lines.join('\n'));
  return file;
}

function run(command, args, hardTimeoutMs, track) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track?.(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), hardTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      track?.(null);
      resolve({ code, signal, out, err });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      track?.(null);
      resolve({ code: null, signal: null, out, err: error.message });
    });
  });
}

/**
 * Drives `url` for `seconds` with `connections` and returns
 * { rps, p50Ms, p99Ms, errors, requests } (errors: socket errors, timeouts and non-2xx/3xx answers).
 */
export async function drive(tool, { url, request, seconds, connections, threads, track }) {
  const hardTimeoutMs = (seconds + 20) * 1000;
  if (tool.name === 'wrk') {
    const args = [
      '-t',
      String(Math.max(1, Math.min(threads, connections))),
      '-c',
      String(connections),
      '-d',
      `${seconds}s`,
      '--timeout',
      '4s',
      '-s',
      wrkScript(request, connections),
      url,
    ];
    const r = await run('wrk', args, hardTimeoutMs, track);
    const line = r.out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (!line) throw new Error(`wrk failed: ${(r.err || r.out).trim().split('\n').slice(-3).join(' / ')}`);
    const s = JSON.parse(line.slice('BENCH_RESULT '.length));
    return {
      rps: s.requests / (s.durationUs / 1e6),
      p50Ms: s.p50 / 1000,
      p99Ms: s.p99 / 1000,
      requests: s.requests,
      errors: s.connect + s.read + s.write + s.status + s.timeout,
      // A server that closes without sending `Connection: close` shows up as read errors (wrk expected
      // to reuse the connection); the requests themselves were answered.
      errorKinds: { connect: s.connect, read: s.read, write: s.write, status: s.status, timeout: s.timeout },
    };
  }
  const args = ['-j', '-c', String(connections), '-d', String(seconds), '-t', '4', '-m', request.method];
  if (request.paceRps) args.push('-R', String(request.paceRps));
  if (request.body !== undefined) args.push('-b', request.body);
  for (const [name, value] of Object.entries(request.headers ?? {})) args.push('-H', `${name}=${value}`);
  args.push(url);
  const r = await run(tool.bin, args, hardTimeoutMs, track);
  const start = r.out.indexOf('{');
  if (start === -1) throw new Error(`autocannon failed: ${r.err.trim().split('\n').slice(-3).join(' / ')}`);
  const s = JSON.parse(r.out.slice(start));
  return {
    rps: s.requests.total / s.duration,
    p50Ms: s.latency.p50,
    p99Ms: s.latency.p99,
    requests: s.requests.total,
    errors: s.errors + s.timeouts + s.non2xx,
  };
}

export function removeScripts() {
  rmSync(luaDir, { recursive: true, force: true });
}
