#!/usr/bin/env node
import { closeSync, openSync } from 'node:fs';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import { parseArgv } from '../config/resolve.js';
import type { Config } from '../config/table.js';
import { TsunicornError } from '../errors.js';
import { loadApp } from '../http/app-loader.js';
import { ExitCode } from '../lifecycle/exit-codes.js';
import { HookRunner } from '../lifecycle/hooks.js';
import { configureErrorLog, log, setLogLevel } from '../logging/logger.js';
import { runMaster } from '../master/index.js';
import { inheritedSockets } from '../sockets/inherited.js';
import { version } from '../version.js';
import { daemonize, reportDaemonReady, shouldDaemonize } from './daemon.js';
import { renderHelp } from './help.js';

const supportedPlatforms = new Set(['linux', 'darwin']);

function fail(err: unknown): number {
  if (err instanceof TsunicornError) {
    for (const line of err.message.split('\n')) process.stderr.write(`tsunicorn: error: ${line}\n`);
    return err.exitCode;
  }
  process.stderr.write(`tsunicorn: error: ${(err as Error)?.stack ?? err}\n`);
  return ExitCode.ERROR;
}

/** Points the master's error log at its destination; a log file that cannot be opened is a bad setting. */
function applyLogging(config: Config, loaded: LoadedConfig): void {
  const problems: string[] = [];
  const check = (flag: string, path: string) => {
    if (!path || path === '-') return;
    try {
      closeSync(openSync(path, 'a'));
    } catch (err) {
      problems.push(`${flag} ${path}: cannot open it for writing (${(err as NodeJS.ErrnoException).code})`);
    }
  };
  check('--error-logfile', config.errorLogfile);
  check('--access-logfile', config.accessLogfile);
  if (problems.length) throw new TsunicornError('TSU_ERR_USAGE', problems.join('\n'));
  setLogLevel(config.logLevel);
  configureErrorLog({ file: config.errorLogfile, json: config.errorLogJson, logger: loaded.logger });
}

/** --check-config: the settings were valid; now the app must load. */
async function checkApp(config: Config): Promise<number> {
  try {
    const app = await loadApp(config.app, process.cwd());
    process.stdout.write(`Config OK: ${config.app} loads (${app.kind})\n`);
    return ExitCode.OK;
  } catch (err) {
    for (const line of String((err as Error)?.message ?? err).split('\n')) {
      process.stderr.write(`tsunicorn: error: ${line}\n`);
    }
    return ExitCode.ERROR;
  }
}

async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  if (!supportedPlatforms.has(process.platform)) {
    return fail(
      new TsunicornError(
        'TSU_ERR_UNSUPPORTED_PLATFORM',
        `${process.platform} is not supported: tsunicorn needs Linux (or macOS) for fd inheritance and POSIX signals`,
      ),
    );
  }
  // Operator subcommands talk to a running master; they take precedence over an app file named `ctl` or `top`.
  if (argv[0] === 'ctl' || argv[0] === 'top') {
    try {
      if (argv[0] === 'ctl') return await (await import('./ctl.js')).runCtl(argv.slice(1), env);
      return await (await import('./top.js')).runTop(argv.slice(1), env);
    } catch (err) {
      return fail(err);
    }
  }
  let config: Config;
  let loaded: LoadedConfig;
  // Captured before --chdir applies: a HUP re-reads the same config file.
  const cwd = process.cwd();
  try {
    let action: string | undefined;
    try {
      ({ action } = parseArgv(argv));
    } catch {
      // loadConfig reports these problems together with those of the other sources.
    }
    if (action === 'help') {
      process.stdout.write(renderHelp());
      return ExitCode.OK;
    }
    if (action === 'version') {
      process.stdout.write(`tsunicorn ${version}\n`);
      return ExitCode.OK;
    }
    loaded = await loadConfig(argv, env, cwd);
    config = loaded.config;
    if (config.printConfig) {
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      return ExitCode.OK;
    }
    if (!config.app) {
      throw new TsunicornError(
        'TSU_ERR_USAGE',
        'no APP_SPEC given: run tsunicorn [OPTIONS] path/to/app.ts (see --help)',
      );
    }
    if (config.chdir) {
      try {
        process.chdir(config.chdir);
      } catch (err) {
        throw new TsunicornError(
          'TSU_ERR_USAGE',
          `--chdir ${config.chdir}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        );
      }
    }
    applyLogging(config, loaded);
    if (config.checkConfig) return await checkApp(config);
  } catch (err) {
    return fail(err);
  }
  const hooks = new HookRunner(loaded.hooks);
  const reloadConfig = async () => {
    const next = await loadConfig(argv, env, cwd);
    applyLogging(next.config, next);
    hooks.replace(next.hooks);
    return next.config;
  };
  if (shouldDaemonize(config, env, inheritedSockets(env) !== undefined)) {
    return await daemonize(argv, env, cwd, config);
  }
  try {
    return await runMaster({ config, env, cwd, reloadConfig, hooks, onStarted: reportDaemonReady });
  } catch (err) {
    if (err instanceof TsunicornError) {
      log.error(err.message);
      return err.exitCode;
    }
    log.exception('Unhandled error in the master', err);
    return ExitCode.ERROR;
  }
}

process.exit(await main(process.argv.slice(2), { ...process.env }));
