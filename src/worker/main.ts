/**
 * The worker process entry: spawned by the master with the listener fds at 3, 4, … and an IPC channel.
 * It loads the app, accepts on the inherited sockets, reports `booted`, and drains on SIGTERM.
 */
import { TsunicornError } from '../errors.js';
import { keepNativeResponse } from '../http/adapters/fast-response.js';
import { loadApp } from '../http/app-loader.js';
import { WORKER_BOOT_ENV, type WorkerBoot, type WorkerMessage } from '../ipc/messages.js';
import { ExitCode } from '../lifecycle/exit-codes.js';
import { log, reopenLogFiles, setLogLevel } from '../logging/logger.js';
import { workerClasses } from './classes/index.js';
import type { RunningWorker } from './classes/worker-class.js';
import { type Observability, setUpObservability } from './observability.js';
import { watchMaxRequests } from './recycling.js';
import { reportStats } from './stats.js';

const boot = JSON.parse(process.env[WORKER_BOOT_ENV] ?? 'null') as WorkerBoot | null;
if (!boot || !process.send) {
  process.stderr.write('tsunicorn worker: start workers through the tsunicorn command, not directly\n');
  process.exit(ExitCode.USAGE);
}
delete process.env[WORKER_BOOT_ENV];
const { config } = boot;
setLogLevel(config.logLevel);
process.title = `tsunicorn: worker [${config.procName || config.app}]`;

function send(message: WorkerMessage): void {
  if (process.connected) process.send!(message);
}

/** Resolves once the message is handed to the channel, so a worker can report before it exits. */
function sendAndWait(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, undefined, () => resolve());
  });
}

let running: RunningWorker | undefined;
let observability: Observability | undefined;
let draining: Promise<never> | undefined;

/** Stop accepting, let in-flight requests finish, then exit. The master kills us at its graceful timeout. */
function drainAndExit(code: number): Promise<never> {
  draining ??= (async () => {
    log.info(`Worker exiting (pid: ${process.pid})`);
    await running?.drain();
    await observability?.beforeExit();
    process.exit(code);
  })();
  return draining;
}

// Installed before the app loads, so an app's own SIGTERM handler runs beside ours and cannot disable the
// drain.
process.on('SIGTERM', () => void drainAndExit(ExitCode.OK));
/** INT/QUIT is a quick stop: no drain, only the config file's onWorkerInterrupt hook first. */
async function interrupted(): Promise<never> {
  await observability?.hooks.run('onWorkerInterrupt', observability.worker);
  process.exit(ExitCode.OK);
}
process.on('SIGQUIT', () => void interrupted());
process.on('SIGINT', () => void interrupted());
// Reloads are driven by the master; a HUP from the terminal must not kill a worker.
process.on('SIGHUP', () => {});
// The master forwards USR1 so every process reopens its log files (logrotate). A listener is needed anyway:
// without one, SIGUSR1 would open Node's inspector.
process.on('SIGUSR1', () => reopenLogFiles());
// A worker whose master is gone exits: no orphans, even after the master was SIGKILLed. The IPC channel's
// 'disconnect' does not always fire then, so the heartbeat also checks the parent pid, as Gunicorn does.
const { masterPid } = boot;
const orphaned = () => {
  log.info(`Master (pid: ${masterPid}) is gone; worker (pid: ${process.pid}) exiting`);
  process.exit(ExitCode.OK);
};
process.on('disconnect', orphaned);
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
// A worker with a stuck part the main loop cannot see (a hung app thread) goes silent, so the master's
// timeout treats it as the hung worker it is.
if (process.ppid !== masterPid) orphaned();
setInterval(() => {
  if (process.ppid !== masterPid) orphaned();
  if (running?.healthy() ?? true) send({ type: 'heartbeat', rss: process.memoryUsage.rss() });
}, 1000);

watchMaxRequests(config, send);
reportStats(send);
// Imported only when asked for: it loads the inspector and worker_threads, which slow every boot.
if (config.timeoutReport && config.timeout > 0)
  (await import('./watchdog.js')).startWatchdog(config.timeoutReport, config.timeout);

// Before the app loads, so its boot errors already go to the configured error log.
observability = await setUpObservability(boot, sendAndWait);
await observability.hooks.run('afterFork', observability.worker);

if (config.noFastResponse) keepNativeResponse();
try {
  const workerClass = await workerClasses[config.workerClass]();
  running = await workerClass.start({
    loadApp: () => loadApp(config.app, process.cwd()),
    config,
    fds: boot.fds,
  });
} catch (err) {
  if (err instanceof TsunicornError) log.error(err.message);
  else log.exception(`Worker (pid: ${process.pid}) failed to boot`, err);
  process.exit(err instanceof TsunicornError ? err.exitCode : ExitCode.WORKER_BOOT_ERROR);
}
await observability.hooks.run('afterWorkerBoot', observability.worker);
if (!draining) send({ type: 'booted' });
