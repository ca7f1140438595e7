import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  ControlClient,
  controlDirectory,
  defaultControlSocket,
  listControlSockets,
} from '../control/protocol.js';
import { TsunicornError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Which master to talk to: `--socket PATH`, `--pid PID|FILE` (a number or a pid file), or the one master
 * with a live socket in the default directory.
 */
export function controlSocketPath(options: { socket?: string; pid?: string }, env: Env): string {
  if (options.socket) return options.socket;
  if (options.pid) {
    const text = /^\d+$/.test(options.pid) ? options.pid : readPidfile(options.pid);
    return defaultControlSocket(env, Number(text));
  }
  const live = listControlSockets(env).filter((path) => alive(Number(basename(path, '.sock'))));
  if (live.length === 1) return live[0]!;
  if (live.length === 0) {
    throw new TsunicornError(
      'TSU_ERR_USAGE',
      `no running tsunicorn master has a control socket in ${controlDirectory(env)}; pass --socket PATH`,
    );
  }
  throw new TsunicornError(
    'TSU_ERR_USAGE',
    `several masters are running; choose one with --pid PID or --socket PATH:\n${live.join('\n')}`,
  );
}

function readPidfile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new TsunicornError('TSU_ERR_USAGE', `--pid ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
}

/** Connects to a master's control socket; a failure is a usage error naming the socket and why. */
export async function connectControl(path: string): Promise<ControlClient> {
  try {
    return await ControlClient.connect(path);
  } catch (err) {
    throw new TsunicornError(
      'TSU_ERR_USAGE',
      `cannot connect to ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
