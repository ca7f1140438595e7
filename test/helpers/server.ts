/**
 * Black-box helpers: start the real CLI, read its log, send real requests and signals. Every process a test
 * starts is killed by pid in cleanup, whatever the test's outcome.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/apps/${name}`, import.meta.url));

/** Polls `check` until it returns a truthy value or the deadline passes. */
/** What a successful check returns: its value without the falsy cases that mean "not yet". */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Pids of a process's children (Linux /proc). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Kills a process and its children by pid: after a binary upgrade the serving master is not the test's child. */
export function killTree(pid: number): void {
  for (const child of childPids(pid)) killTree(child);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** The pid a pid file names. */
export const readPid = (path: string) => Number(readFileSync(path, 'utf8').trim());

/** True while the process runs; a zombie (exited, not yet reaped by its new parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export class Server {
  readonly child: ChildProcess;
  readonly pid: number;
  log = '';
  #exit: Promise<{ code: number | null; signal: string | null }>;
  exitCode: number | null | undefined;

  constructor(args: string[], opts: RunOptions = {}) {
    this.child = spawn(process.execPath, [cli, ...args], {
      cwd: opts.cwd ?? root,
      env: { ...process.env, WEB_CONCURRENCY: undefined, PORT: undefined, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid!;
    this.child.stdout!.on('data', (d) => {
      this.log += d;
    });
    this.child.stderr!.on('data', (d) => {
      this.log += d;
    });
    this.#exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exitCode = code;
        resolve({ code, signal });
      }),
    );
    servers.add(this);
  }

  /** Resolves when the log matches; returns the match. */
  waitForLog(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return waitFor(
      () => this.log.match(pattern),
      `log ${pattern}\n--- log so far ---\n${this.log}`,
      timeoutMs,
    );
  }

  /** Counts matches of a global pattern in the log. */
  count(pattern: RegExp): number {
    return [...this.log.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))].length;
  }

  get port(): number {
    const m = this.log.match(/Listening at: https?:\/\/[^\s]*:(\d+) /);
    if (!m) throw new Error(`no port in log:\n${this.log}`);
    return Number(m[1]);
  }

  workers(): number[] {
    return childPids(this.pid);
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }

  exited(timeoutMs = 15_000): Promise<{ code: number | null; signal: string | null }> {
    return Promise.race([
      this.#exit,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`master did not exit within ${timeoutMs} ms\n${this.log}`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  /** Kills the master and every worker it had. */
  kill(): void {
    const pids = [...this.workers(), this.pid];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    servers.delete(this);
  }
}

const servers = new Set<Server>();
process.on('exit', () => {
  for (const s of servers) s.kill();
});

/** Starts the CLI and waits until it listens and `workers` workers have booted (`booted` log lines). */
export async function startServer(
  args: string[],
  opts: RunOptions & { workers?: number } = {},
): Promise<Server> {
  const server = new Server(args, opts);
  await server.waitForLog(/Listening at: /);
  if (opts.workers !== undefined) {
    await waitFor(() => server.workers().length >= opts.workers!, `${opts.workers} workers\n${server.log}`);
  }
  return server;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request; a new connection unless an agent is given. */
export function request(
  target: { port?: number; socketPath?: string },
  path = '/',
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: Agent;
    timeoutMs?: number;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        ...target,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`request ${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The port of the master's Prometheus endpoint, started with `--metrics-bind 127.0.0.1:0`. */
export async function metricsPortOf(server: Server): Promise<number> {
  return Number((await server.waitForLog(/Metrics at: http:\/\/127\.0\.0\.1:(\d+)\/metrics/))[1]);
}

/** Waits until the server answers 200 on `path` (workers booted and accepting). */
export async function waitServing(target: { port?: number; socketPath?: string }, path = '/'): Promise<void> {
  await waitFor(
    () =>
      request(target, path).then(
        (r) => r.status === 200,
        () => false,
      ),
    `200 on ${path}`,
  );
}

/**
 * `connections` clients sending GET / back to back until stopped, each on a new connection unless
 * `agentFor` gives it a (keep-alive) agent; every failure is recorded, and the pids that answered (the app
 * replies with JSON carrying its pid).
 */
export function clientLoop(
  port: number,
  options: { connections?: number; agentFor?: (i: number) => Agent | undefined } = {},
) {
  const failures: string[] = [];
  const pids = new Set<number>();
  let sent = 0;
  let running = true;
  const loops = Array.from({ length: options.connections ?? 1 }, async (_, i) => {
    const agent = options.agentFor?.(i);
    while (running) {
      sent++;
      try {
        const r = await request({ port }, '/', agent ? { agent } : {});
        if (r.status !== 200) failures.push(`status ${r.status}`);
        else pids.add(JSON.parse(r.body).pid);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  });
  return {
    failures,
    pids,
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
