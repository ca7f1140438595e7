import { fileURLToPath } from 'node:url';
import type { Config } from '../config/table.js';
import { loadApp } from '../http/app-loader.js';
import { log } from '../logging/logger.js';
import { formatAddress } from '../sockets/address.js';
import { bindListeners } from '../sockets/listeners.js';
import { version } from '../version.js';
import { Arbiter } from './arbiter.js';
import { realProcessOps } from './process-ops.js';
import { installSignalHandlers } from './signals.js';

export interface MasterOptions {
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly reloadConfig: () => Promise<Config>;
}

const workerEntry = fileURLToPath(new URL('../worker/main.js', import.meta.url));

/** Binds, optionally preloads, runs the arbiter; resolves to the exit code. Bind and load errors throw. */
export async function runMaster({ config, env, reloadConfig }: MasterOptions): Promise<number> {
  log.info(`Starting tsunicorn ${version}`);
  process.title = `tsunicorn: master [${config.app}]`;
  const listeners = await bindListeners(config.bind);
  try {
    for (const l of listeners) log.info(`Listening at: ${formatAddress(l.address)} (${process.pid})`);
    if (config.preload) {
      const app = await loadApp(config.app, process.cwd());
      log.info(`Preloaded app ${config.app} (${app.kind})`);
    }
    const arbiter = new Arbiter({ config, listeners, ops: realProcessOps, workerEntry, env, reloadConfig });
    const uninstall = installSignalHandlers((signal) => arbiter.enqueueSignal(signal));
    try {
      return await arbiter.run();
    } finally {
      uninstall();
    }
  } finally {
    for (const l of listeners) l.close();
    log.info('Shutting down: Master');
  }
}
