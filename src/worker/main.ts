/**
 * The worker process entry: spawned by the master with the listener fds at 3, 4, … and an IPC channel.
 * It loads the app, accepts on the inherited sockets, reports `booted`, and drains on SIGTERM.
 */
import { TsunicornError } from '../errors.js';
import { loadApp } from '../http/app-loader.js';
import { WORKER_BOOT_ENV, type WorkerBoot, type WorkerMessage } from '../ipc/messages.js';
import { ExitCode } from '../lifecycle/exit-codes.js';
import { log, setLogLevel } from '../logging/logger.js';
import { workerClasses } from './classes/index.js';
import type { RunningWorker } from './classes/worker-class.js';

const boot = JSON.parse(process.env[WORKER_BOOT_ENV] ?? 'null') as WorkerBoot | null;
if (!boot || !process.send) {
  process.stderr.write('tsunicorn worker: start workers through the tsunicorn command, not directly\n');
  process.exit(ExitCode.USAGE);
}
delete process.env[WORKER_BOOT_ENV];
const { config } = boot;
setLogLevel(config.logLevel);
process.title = `tsunicorn: worker [${config.app}]`;

function send(message: WorkerMessage): void {
  if (process.connected) process.send!(message);
}

let running: RunningWorker | undefined;
let draining: Promise<never> | undefined;

/** Stop accepting, let in-flight requests finish, then exit. The master kills us at its graceful timeout. */
function drainAndExit(code: number): Promise<never> {
  draining ??= (async () => {
    log.info(`Worker exiting (pid: ${process.pid})`);
    await running?.drain();
    process.exit(code);
  })();
  return draining;
}

// Installed before the app loads, so an app's own SIGTERM handler runs beside ours and cannot disable the
// drain.
process.on('SIGTERM', () => void drainAndExit(ExitCode.OK));
process.on('SIGQUIT', () => process.exit(ExitCode.OK));
process.on('SIGINT', () => process.exit(ExitCode.OK));
// Reloads are driven by the master; a HUP from the terminal must not kill a worker.
process.on('SIGHUP', () => {});
// Without a listener, SIGUSR1 would open Node's inspector. The master forwards USR1 to reopen log files;
// workers write to the inherited stderr, which needs no reopening.
process.on('SIGUSR1', () => {});
// A worker whose master is gone exits: no orphans, even after the master was SIGKILLed.
process.on('disconnect', () => process.exit(ExitCode.OK));
process.on('uncaughtException', (err) => {
  log.exception(`Uncaught exception in worker (pid: ${process.pid}); replacing it`, err);
  void drainAndExit(ExitCode.ERROR);
});
process.on('unhandledRejection', (reason) => {
  if (config.unhandledRejection === 'fatal') {
    log.exception(`Unhandled promise rejection in worker (pid: ${process.pid}); replacing it`, reason);
    void drainAndExit(ExitCode.ERROR);
  } else {
    log.exception(`Unhandled promise rejection in worker (pid: ${process.pid})`, reason);
  }
});
setInterval(() => send({ type: 'heartbeat' }), 1000);

try {
  const app = await loadApp(config.app, process.cwd());
  running = await workerClasses[config.workerClass].start({ app, config, fds: boot.fds });
} catch (err) {
  if (err instanceof TsunicornError) log.error(err.message);
  else log.exception(`Worker (pid: ${process.pid}) failed to boot`, err);
  process.exit(err instanceof TsunicornError ? err.exitCode : ExitCode.WORKER_BOOT_ERROR);
}
if (!draining) send({ type: 'booted' });
