/**
 * Loads the configuration once from every source — defaults < config file < environment
 * (WEB_CONCURRENCY, PORT, then TSUNICORN_CMD_ARGS) < command line — and reports every problem of every
 * source together.
 */
import { TsunicornError } from '../errors.js';
import type { CustomLogger, Hooks } from '../lifecycle/hooks.js';
import { findConfigFile, loadConfigFile } from './file.js';
import { type CliAction, envLayer, type Layer, parseArgv, resolveConfig } from './resolve.js';
import { shellSplit } from './shlex.js';
import type { Config } from './table.js';

export const CMD_ARGS_ENV = 'TSUNICORN_CMD_ARGS';

export interface LoadedConfig {
  readonly action: CliAction;
  readonly config: Config;
  readonly hooks: Hooks;
  readonly logger: CustomLogger | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

function collect<T>(problems: string[], prefix: string, fallback: T, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    for (const line of err.message.split('\n')) problems.push(prefix + line);
    return fallback;
  }
}

export async function loadConfig(argv: readonly string[], env: Env, cwd: string): Promise<LoadedConfig> {
  const problems: string[] = [];
  const cli = collect(problems, '', { action: 'serve' as CliAction, layer: {} as Layer }, () =>
    parseArgv(argv),
  );
  const cmdArgs = env[CMD_ARGS_ENV]
    ? collect(
        problems,
        `${CMD_ARGS_ENV}: `,
        {} as Layer,
        () => parseArgv(shellSplit(env[CMD_ARGS_ENV]!)).layer,
      )
    : {};
  const conventional = collect(problems, '', {} as Layer, () => envLayer(env));

  const explicit = (cli.layer.config ?? cmdArgs.config) as string | undefined;
  const path = explicit || findConfigFile(cwd);
  const file = path ? await loadConfigFile(path, cwd) : undefined;
  if (file) problems.push(...file.problems);
  if (problems.length) throw new TsunicornError('TSU_ERR_USAGE', problems.join('\n'));

  const config = resolveConfig(
    [file?.layer ?? {}, conventional, cmdArgs, { ...cli.layer, config: file?.path ?? '' }],
    env,
  );
  if (config.httpProtocols.includes('h2') && !config.certfile) {
    throw new TsunicornError(
      'TSU_ERR_USAGE',
      '--http-protocols h2 needs TLS: add --certfile (and --keyfile), or serve h1 only',
    );
  }
  return { action: cli.action, config, hooks: file?.hooks ?? {}, logger: file?.logger };
}

/** A worker's view of the config file: only its hooks and logger; the settings come from the master. */
export async function loadFileHooks(
  path: string,
  cwd: string,
): Promise<{ hooks: Hooks; logger: CustomLogger | undefined }> {
  if (!path) return { hooks: {}, logger: undefined };
  const file = await loadConfigFile(path, cwd);
  return { hooks: file.hooks, logger: file.logger };
}
