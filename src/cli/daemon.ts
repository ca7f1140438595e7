/**
 * `-D/--daemon`. Node cannot fork, so the command starts itself again detached (a new session, no terminal)
 * and waits on an IPC channel until the daemon's workers serve; then it exits 0, or with the daemon's exit
 * code if it died first. It is the only way tsunicorn ever re-spawns its own command line at start: under
 * systemd the process systemd started must stay the master (`LISTEN_PID`, `MAINPID`).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Config } from '../config/table.js';
import { ExitCode } from '../lifecycle/exit-codes.js';
import { log } from '../logging/logger.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Set in the daemon's environment: it is the daemon already, and reports to its starter. */
const DAEMON_ENV = 'TSUNICORN_DAEMON';

const READY = 'tsunicorn:daemon-ready';

/** Whether this command should detach: never twice, never under systemd, never in an upgraded master. */
export function shouldDaemonize(config: Config, env: Env, inherited: boolean): boolean {
  if (!config.daemon || env[DAEMON_ENV]) return false;
  if (env.NOTIFY_SOCKET || inherited) {
    log.warning('-D/--daemon ignored: under systemd (or a binary upgrade) this process stays the master');
    return false;
  }
  return true;
}

/** Starts the daemon and resolves to this command's exit code. */
export function daemonize(argv: readonly string[], env: Env, cwd: string, config: Config): Promise<number> {
  const log =
    config.errorLogfile && config.errorLogfile !== '-' ? openSync(config.errorLogfile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    cwd,
    detached: true,
    env: { ...env, [DAEMON_ENV]: String(process.pid) },
    stdio: ['ignore', 'ignore', log, 'ipc'],
  });
  if (typeof log === 'number') closeSync(log);
  return new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message !== READY) return;
      child.disconnect();
      child.unref();
      resolve(ExitCode.OK);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const where =
        typeof log === 'number'
          ? `see ${config.errorLogfile}`
          : 'run without -D, or set --error-logfile, to see why';
      process.stderr.write(
        `tsunicorn: error: the daemon (pid ${child.pid}) ${how} before its workers served: ${where}\n`,
      );
      resolve(code || ExitCode.ERROR);
    });
  });
}

/** In the daemon: tells the waiting command that the workers serve, and lets it go. */
export function reportDaemonReady(): void {
  if (!process.send) return;
  process.send(READY, () => process.disconnect());
}
