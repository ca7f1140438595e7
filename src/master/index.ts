import { fileURLToPath } from 'node:url';
import type { Config } from '../config/table.js';
import { loadApp } from '../http/app-loader.js';
import type { HookRunner } from '../lifecycle/hooks.js';
import { log } from '../logging/logger.js';
import { formatAddress } from '../sockets/address.js';
import { bindListeners } from '../sockets/listeners.js';
import { version } from '../version.js';
import { Arbiter } from './arbiter.js';
import { observers } from './observer.js';
import { Operations } from './operations.js';
import { realProcessOps } from './process-ops.js';
import { startMasterServices } from './services.js';
import { installSignalHandlers } from './signals.js';

export interface MasterOptions {
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly reloadConfig: () => Promise<Config>;
  /** The config file's hooks; the reloadConfig callback replaces them on HUP. */
  readonly hooks: HookRunner;
}

const workerEntry = fileURLToPath(new URL('../worker/main.js', import.meta.url));

/** Binds, optionally preloads, runs the arbiter; resolves to the exit code. Bind and load errors throw. */
export async function runMaster({ config, env, reloadConfig, hooks }: MasterOptions): Promise<number> {
  log.info(`Starting tsunicorn ${version}`);
  process.title = `tsunicorn: master [${config.app}]`;
  const services = await startMasterServices(config, hooks);
  await hooks.run('onStarting', services.server);
  const listeners = await bindListeners(config.bind).catch(async (err) => {
    await services.close();
    throw err;
  });
  try {
    for (const l of listeners) log.info(`Listening at: ${formatAddress(l.address)} (${process.pid})`);
    if (config.preload) {
      const app = await loadApp(config.app, process.cwd());
      log.info(`Preloaded app ${config.app} (${app.kind})`);
    }
    await hooks.run('onReady', services.server);
    const operations = new Operations({ config, env, listeners });
    const arbiter = new Arbiter({
      config,
      listeners,
      ops: realProcessOps,
      workerEntry,
      env,
      reloadConfig,
      observer: observers(services.observer, operations.observer),
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
    for (const l of listeners) l.close();
    await services.close();
    await hooks.run('onExit', services.server);
    log.info('Shutting down: Master');
  }
}
