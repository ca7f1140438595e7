/**
 * `run()`: the same server from code (test harnesses, embedding). The master is started as its own process,
 * exactly as the CLI starts it — a master must own its signals and its workers — and the returned handle
 * drives it over the control socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UserConfig } from './config/input.js';
import type { Setting } from './config/setting.js';
import { settings } from './config/table.js';
import { ControlClient, type StatsView } from './control/protocol.js';
import { entries } from './paths.js';

export interface RunOptions extends Partial<Record<string, unknown>> {
  /** The app spec, as on the command line. */
  readonly app: string;
  /** Working directory of the master (default: this process's). */
  readonly cwd?: string;
  /** Environment of the master (default: this process's). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Where the server's log lines go (default: this process's stderr). */
  readonly onLog?: (chunk: string) => void;
}

export interface ServerHandle {
  readonly pid: number;
  /** Addresses as the `Listening at:` lines print them, e.g. `http://127.0.0.1:41234`. */
  readonly addresses: readonly string[];
  /** Replace every worker (as HUP); resolves once the new generation serves. */
  reload(): Promise<void>;
  /** Set the number of workers. */
  scale(workers: number): Promise<void>;
  stats(): Promise<StatsView>;
  /** Stop the server; resolves to the master's exit code. */
  stop(mode?: 'graceful' | 'quick'): Promise<number>;
}

/** Settings given as an object become the flags the settings table defines for them. */
function toArgv(options: Record<string, unknown>): string[] {
  const argv: string[] = [];
  for (const s of settings as readonly Setting[]) {
    const value = options[s.key];
    const flag = s.flags.find((f) => f.startsWith('--'));
    if (value === undefined || !flag) continue;
    if (!s.metavar) {
      if (value === true) argv.push(flag);
    } else if (Array.isArray(value)) {
      for (const v of value) argv.push(`${flag}=${v}`);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) argv.push(`${flag}=${k}=${v}`);
    } else argv.push(`${flag}=${value}`);
  }
  return argv;
}

/** Starts a server and resolves once it listens and its first workers serve. */
export async function run(options: RunOptions & Partial<UserConfig>): Promise<ServerHandle> {
  const { app, cwd, environment, onLog = (chunk) => process.stderr.write(chunk), ...rest } = options;
  const dir = mkdtempSync(join(tmpdir(), 'tsunicorn-run-'));
  const socket = join(dir, 'control.sock');
  const child: ChildProcess = spawn(
    process.execPath,
    [entries.cli, ...toArgv(rest as Record<string, unknown>), `--control-socket=${socket}`, app],
    { cwd, env: { ...(environment ?? process.env) }, stdio: ['ignore', 'inherit', 'pipe'] },
  );
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  void exited.then(() => rmSync(dir, { recursive: true, force: true }));
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    log += chunk;
    onLog(chunk);
  });
  const failed = exited.then((code) => {
    throw new Error(`tsunicorn exited with code ${code} before serving:\n${log}`);
  });
  const request = async (command: string, args: string[] = []) => {
    const client = await ControlClient.connect(socket);
    try {
      const response = await client.request(command, args);
      if (!response.ok) throw new Error(`${command}: ${response.error}`);
      return response.result;
    } finally {
      client.close();
    }
  };
  const stats = async () => (await request('stats')) as StatsView;
  const serving = async (): Promise<StatsView> => {
    for (;;) {
      const s = await stats().catch(() => undefined);
      if (s && s.workers.filter((w) => w.state === 'ready').length >= s.master.target) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const ready = await Promise.race([serving(), failed]);
  return {
    pid: child.pid!,
    addresses: ready.master.listeners,
    reload: async () => {
      await request('reload');
    },
    scale: async (workers) => {
      await request('scale', [String(workers)]);
    },
    stats,
    stop: async (mode = 'graceful') => {
      await request('shutdown', [mode]).catch(() => {});
      return exited;
    },
  };
}
