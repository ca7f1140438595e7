/**
 * The shape of a config file, derived from the settings table so a new setting is typed the moment it is
 * added: camelCase keys, their snake_case forms and Gunicorn's names, plus the hooks and a custom logger.
 */
import type { CustomLogger, Hooks } from '../lifecycle/hooks.js';
import type { configSettings } from './settings/config.js';
import type { AnySetting, ValueOf } from './table.js';

type SnakeCase<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}`
  : S;

/**
 * A list setting also takes a single item, as Gunicorn's `bind = "0.0.0.0:8000"`; KEY=VALUE settings also a
 * list of "KEY=VALUE" strings, as Gunicorn's `raw_env`.
 */
type Input<T> = T extends readonly (infer I)[]
  ? T | I
  : T extends Record<string, string>
    ? T | readonly `${string}=${string}`[]
    : T;

type CliOnly = (typeof configSettings)[number]['key'];
type FileSetting = Exclude<AnySetting, { readonly key: CliOnly }>;
type Aliases<S> = S extends { readonly aliases?: infer A extends readonly string[] } ? A[number] : never;

export type SettingsInput = { [S in FileSetting as S['key']]?: Input<ValueOf<S>> } & {
  [S in FileSetting as SnakeCase<S['key']>]?: Input<ValueOf<S>>;
} & { [S in FileSetting as Aliases<S>]?: Input<ValueOf<S>> };

export interface UserConfig extends SettingsInput, Hooks {
  /** Replaces the error log in master and workers, e.g. a pino instance. */
  logger?: CustomLogger;
}

/** Identity at runtime; gives a config file its types: `export default defineConfig({ workers: 4 })`. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
