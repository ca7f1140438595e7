import type { Config } from '../config/table.js';
import { loadApp } from '../http/app-loader.js';
import type { HookRunner } from '../lifecycle/hooks.js';
import { log } from '../logging/logger.js';
import { entries } from '../paths.js';
import { formatAddress } from '../sockets/address.js';
import { adoptListeners, inheritedSockets, withoutInheritance } from '../sockets/inherited.js';
import { bindListeners, type Listener } from '../sockets/listeners.js';
import { version } from '../version.js';
import { Arbiter } from './arbiter.js';
import { type Credentials, chownForWorkers, resolveCredentials } from './credentials.js';
import { observers } from './observer.js';
import { Operations } from './operations.js';
import { Pidfile } from './pidfile.js';
import { type ProcessOps, realProcessOps } from './process-ops.js';
import { startMasterServices } from './services.js';
import { installSignalHandlers } from './signals.js';
import { Notifier, systemdObserver } from './systemd.js';
import { Reexec, UPGRADE_PARENT_ENV, watchParent } from './upgrade.js';

export interface MasterOptions {
  readonly config: Config;
  /** The environment the command started with: workers and a USR2 re-exec start from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The directory the command started in (before --chdir): a USR2 re-exec runs there. */
  readonly cwd: string;
  readonly reloadConfig: () => Promise<Config>;
  /** The config file's hooks; the reloadConfig callback replaces them on HUP. */
  readonly hooks: HookRunner;
  /** Called once every worker of the first generation has booted (-D reports it to its starter). */
  readonly onStarted?: () => void;
}

function masterTitle(config: Config, upgrading: boolean): string {
  // Gunicorn's `.2` marks the new master of an upgrade until the old one is gone.
  return `tsunicorn: master [${config.procName || config.app}${upgrading ? '.2' : ''}]`;
}

/** Binds (or adopts), optionally preloads, runs the arbiter; resolves to the exit code. Bind and load errors throw. */
export async function runMaster(options: MasterOptions): Promise<number> {
  const { config, env } = options;
  log.info(`Starting tsunicorn ${version}`);
  const parentPid = Number(env[UPGRADE_PARENT_ENV]) || undefined;
  process.title = masterTitle(config, parentPid !== undefined);
  if (config.umask !== null) process.umask(config.umask);
  const credentials = resolveCredentials(config);
  // Claimed before binding: a second start must name the running master, not fail on EADDRINUSE.
  const pidfile = config.pidfile
    ? Pidfile.create(parentPid ? `${config.pidfile}.2` : config.pidfile)
    : undefined;
  let handedOver = false;
  try {
    return await serve(options, credentials, pidfile, parentPid, (reexec) => {
      handedOver = reexec.handedOver;
    });
  } finally {
    // A new master that took our sockets renames its own pid file over this one.
    if (!handedOver) pidfile?.remove();
  }
}

async function serve(
  { config, env, cwd, reloadConfig, hooks, onStarted }: MasterOptions,
  credentials: Credentials,
  pidfile: Pidfile | undefined,
  parentPid: number | undefined,
  onExit: (reexec: Reexec) => void,
): Promise<number> {
  const services = await startMasterServices(config, hooks);
  await hooks.run('onStarting', services.server);
  const inherited = inheritedSockets(env);
  let listeners: Listener[];
  try {
    listeners = inherited ? adoptListeners(inherited.fds) : await bindListeners(config.bind);
  } catch (err) {
    await services.close();
    throw err;
  }
  const notifier = new Notifier(env);
  const reexec = new Reexec(
    { listeners, env, cwd, beforeReexec: () => services.observer.beforeReexec() },
    parentPid,
  );
  try {
    if (inherited?.from === 'systemd') log.info(`Using ${listeners.length} socket(s) from systemd`);
    for (const l of listeners)
      log.info(`Listening at: ${formatAddress(l.address, Boolean(config.certfile))} (${process.pid})`);
    // Inherited sockets keep the owner their creator (systemd's SocketUser=, the old master) gave them.
    chownForWorkers(credentials, inherited ? [] : listeners, config);
    if (config.preload) {
      const app = await loadApp(config.app, process.cwd());
      log.info(`Preloaded app ${config.app} (${app.kind})`);
    }
    await hooks.run('onReady', services.server);
    if (parentPid !== undefined) {
      watchParent(parentPid, () => {
        pidfile?.rename(config.pidfile);
        process.title = masterTitle(config, false);
        reexec.promoted();
        notifier.notify(`MAINPID=${process.pid}`);
        log.info(
          `The old master (pid: ${parentPid}) has exited; this master (pid: ${process.pid}) takes over`,
        );
      });
    }
    const operations = new Operations({ config, env, listeners });
    const arbiter: Arbiter = new Arbiter({
      config,
      listeners,
      ops: withCredentials(realProcessOps, credentials),
      workerEntry: entries.worker,
      env: workerEnv(env),
      reloadConfig,
      observer: observers(
        services.observer,
        systemdObserver(
          notifier,
          () => arbiter.workers,
          () => reexec.childPid,
        ),
        { started: () => onStarted?.() },
        operations.observer,
      ),
      reexec: () => reexec.reexec(),
      hasTerminal: Boolean(process.stdin.isTTY || process.stdout.isTTY || process.stderr.isTTY),
    });
    services.setWorkers(() => arbiter.workers);
    await operations.start(arbiter);
    const uninstall = installSignalHandlers((signal) => operations.signal(signal));
    try {
      return await arbiter.run();
    } finally {
      uninstall();
      await operations.close();
    }
  } finally {
    onExit(reexec);
    // Sockets handed to a new master stay, files included: it serves on them after this master is gone.
    for (const l of listeners) l.close(!reexec.handedOver);
    await services.close();
    await hooks.run('onExit', services.server);
    await notifier.flush();
    log.info('Shutting down: Master');
  }
}

/** Workers start from the command's environment, without what only the master may act on. */
function workerEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const rest = withoutInheritance(env);
  delete rest.NOTIFY_SOCKET;
  delete rest[UPGRADE_PARENT_ENV];
  return rest;
}

function withCredentials(ops: ProcessOps, { uid, gid }: Credentials): ProcessOps {
  if (uid === undefined && gid === undefined) return ops;
  return { ...ops, spawn: (req) => ops.spawn({ ...req, uid, gid }) };
}
