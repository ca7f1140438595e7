/**
 * Binary upgrade, unicorn's and Gunicorn's USR2: the master starts a new master from the code now on disk,
 * handing it the listener fds (`TSUNICORN_FD=3,4,…`), and both serve until the operator sends WINCH (stop
 * the old workers) and TERM to the old master. The new master watches its parent: once the old master is
 * gone it takes over its name — the pid file, the process title and, under systemd, MAINPID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { haltReason } from '../lifecycle/exit-codes.js';
import { log } from '../logging/logger.js';
import { UPGRADE_FDS_ENV, withoutInheritance } from '../sockets/inherited.js';
import type { Listener } from '../sockets/listeners.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The old master's pid, in the new master's environment: it is the new one until that process is gone. */
export const UPGRADE_PARENT_ENV = 'TSUNICORN_PARENT_PID';

const PARENT_CHECK_MS = 500;

export interface ReexecOptions {
  readonly listeners: readonly Listener[];
  /** The environment this master started with: the new master gets it, not what the app changed since. */
  readonly env: Env;
  /** The directory the command was run in (before --chdir), so relative paths in argv mean the same. */
  readonly cwd: string;
  /** Runs the config file's beforeReexec hook. */
  readonly beforeReexec: () => void;
}

/** The old master's side: starts and follows the new master. */
export class Reexec {
  readonly #options: ReexecOptions;
  #child: ChildProcess | undefined;
  /** Set while this master is itself a new master whose parent has not exited yet. */
  #waitingForParent: number | undefined;

  constructor(options: ReexecOptions, parentPid?: number) {
    this.#options = options;
    this.#waitingForParent = parentPid;
  }

  /** A new master is running on this master's sockets: they must outlive this process, files included. */
  get handedOver(): boolean {
    return this.#child !== undefined;
  }

  get childPid(): number | undefined {
    return this.#child?.pid;
  }

  /** This master has taken over from its parent (see watchParent). */
  promoted(): void {
    this.#waitingForParent = undefined;
  }

  /** USR2. */
  reexec(): void {
    if (this.#child) {
      log.warning(`USR2 ignored: an upgrade is already in progress (new master pid ${this.#child.pid})`);
      return;
    }
    if (this.#waitingForParent !== undefined) {
      log.warning(
        `USR2 ignored: this master is itself an upgrade, waiting for the old master (pid ${this.#waitingForParent}) to exit`,
      );
      return;
    }
    const { listeners, env, cwd } = this.#options;
    this.#options.beforeReexec();
    const fds = listeners.map((_, i) => 3 + i);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
        cwd,
        env: {
          ...withoutInheritance(env),
          [UPGRADE_FDS_ENV]: fds.join(','),
          [UPGRADE_PARENT_ENV]: String(process.pid),
        },
        stdio: ['ignore', 'inherit', 'inherit', ...listeners.map((l) => l.fd)],
      });
    } catch (err) {
      log.error(`Cannot start a new master: ${(err as Error).message}`);
      return;
    }
    this.#child = child;
    child.once('error', (err) => log.error(`Cannot start a new master: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      const why =
        signal !== null
          ? `was killed by ${signal}`
          : `exited with code ${code}${code === 3 || code === 4 ? ` (${haltReason(code)})` : ''}`;
      log.error(
        `New master (pid:${child.pid}) ${why}; this master keeps serving (send HUP if its workers were stopped with WINCH)`,
      );
    });
    log.info(`Started a new master (pid: ${child.pid}) on the listeners; both serve now`);
  }
}

/**
 * In a new master: calls `onGone` once the old master has exited. It was our parent, so its exit makes us
 * someone else's child; the pid is compared, not a channel, since the old master may end by SIGKILL.
 */
export function watchParent(parentPid: number, onGone: () => void): void {
  const check = () => {
    if (process.ppid === parentPid) return;
    clearInterval(timer);
    onGone();
  };
  const timer = setInterval(check, PARENT_CHECK_MS).unref();
  check();
}
