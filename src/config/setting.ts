import type { Kind } from './kinds.js';

export type Section =
  | 'config'
  | 'app'
  | 'server'
  | 'http'
  | 'tls'
  | 'workers'
  | 'supervision'
  | 'process'
  | 'logging'
  | 'metrics'
  | 'operations';

/** What a default may depend on: the environment and the settings resolved before it in the table. */
export interface DefaultContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly resolved: Readonly<Record<string, unknown>>;
}

/**
 * One row of the settings table. The table is the single source of truth for the CLI parser, --help,
 * config-file keys and the generated settings reference.
 */
export interface Setting<T = unknown> {
  /** camelCase config key, also the resolved config's property. */
  readonly key: string;
  readonly section: Section;
  /** CLI flags, short first: ['-w', '--workers']. Empty for the positional app spec. */
  readonly flags: readonly string[];
  /** Placeholder in --help; absent for boolean switches that take no value. */
  readonly metavar?: string;
  readonly kind: Kind<T>;
  readonly default: T | ((ctx: DefaultContext) => T);
  /** How the default reads in --help and docs when it is computed. */
  readonly defaultDoc?: string;
  readonly doc: string;
  /** A repeatable flag whose occurrences are merged (lists concatenate, objects merge). */
  readonly repeatable?: boolean;
  /**
   * Further config-file names besides the key and its snake_case form: Gunicorn's own names where they differ
   * (`loglevel`, `accesslog`), so a Gunicorn config translates key by key.
   */
  readonly aliases?: readonly string[];
  /** Given on the command line or in TSUNICORN_CMD_ARGS only; a config file cannot set it. */
  readonly cliOnly?: boolean;
}

export function setting<const K extends string, T, const A extends readonly string[] = readonly []>(
  s: Setting<T> & { readonly key: K; readonly aliases?: A },
): Setting<T> & { readonly key: K; readonly aliases?: A } {
  return s;
}

/** `gracefulTimeout` → `graceful_timeout`: the config-file spelling Gunicorn users write. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
