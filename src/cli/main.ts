#!/usr/bin/env node
import { envLayer, parseArgv, resolveConfig } from '../config/resolve.js';
import type { Config } from '../config/table.js';
import { TsunicornError } from '../errors.js';
import { ExitCode } from '../lifecycle/exit-codes.js';
import { log, setLogLevel } from '../logging/logger.js';
import { runMaster } from '../master/index.js';
import { version } from '../version.js';
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
  let config: Config;
  const resolve = () => {
    const { layer } = parseArgv(argv);
    return resolveConfig([envLayer(env), layer], env);
  };
  try {
    const { action } = parseArgv(argv);
    if (action === 'help') {
      process.stdout.write(renderHelp());
      return ExitCode.OK;
    }
    if (action === 'version') {
      process.stdout.write(`tsunicorn ${version}\n`);
      return ExitCode.OK;
    }
    config = resolve();
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
  } catch (err) {
    return fail(err);
  }
  setLogLevel(config.logLevel);
  try {
    return await runMaster({ config, env, reloadConfig: async () => resolve() });
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
