/**
 * The config file: found, imported and checked against the settings table. Every problem is collected, so a
 * user fixes the file in one go.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CustomLogger, type Hooks, hookNames } from '../lifecycle/hooks.js';
import type { Layer } from './resolve.js';
import { nearest } from './resolve.js';
import { type Setting, snakeCase } from './setting.js';
import { settings } from './table.js';

export const configFileNames = [
  'tsunicorn.config.ts',
  'tsunicorn.config.mts',
  'tsunicorn.config.js',
  'tsunicorn.config.mjs',
  'tsunicorn.config.cjs',
  'tsunicorn.config.json',
] as const;

/** The default config file in `cwd`, if one exists. */
export function findConfigFile(cwd: string): string | undefined {
  return configFileNames.map((name) => resolve(cwd, name)).find((path) => existsSync(path));
}

const tsExtensions = new Set(['.ts', '.mts', '.cts']);
let loads = 0;

/**
 * Imports a config file afresh: a HUP must see the edited file, so the ESM cache is bypassed with a query
 * and the CommonJS cache entry is dropped.
 */
async function importFile(path: string): Promise<unknown> {
  const ext = extname(path);
  if (ext === '.json') return JSON.parse(readFileSync(path, 'utf8'));
  // TypeScript config loads through tsx, as TypeScript apps do, on every supported Node.
  if (tsExtensions.has(ext)) await import('tsx');
  delete createRequire(path).cache[path];
  const url = pathToFileURL(path);
  url.searchParams.set('tsunicorn-load', String(++loads));
  const ns = (await import(url.href)) as Record<string, unknown>;
  const main = ns.default;
  // `export default defineConfig({...})` or `module.exports = {...}`; otherwise module-level exports, as in a
  // Gunicorn config (`export const workers = 4`).
  if (main && typeof main === 'object') {
    const unwrapped = (main as Record<string, unknown>).__esModule ? (main as any).default : main;
    if (unwrapped && typeof unwrapped === 'object') return unwrapped;
  }
  return Object.fromEntries(
    Object.entries(ns).filter(([k]) => k !== 'default' && k !== '__esModule' && k !== 'module.exports'),
  );
}

export interface FileConfig {
  readonly path: string;
  readonly layer: Layer;
  readonly hooks: Hooks;
  readonly logger: CustomLogger | undefined;
  readonly problems: readonly string[];
}

/** Every name a config file may use for a setting, to its setting. */
function fileNames(): Map<string, Setting> {
  const names = new Map<string, Setting>();
  for (const s of settings as readonly Setting[]) {
    for (const name of [s.key, snakeCase(s.key), ...(s.aliases ?? [])]) names.set(name, s);
  }
  return names;
}

function isLogger(value: unknown): value is CustomLogger {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['debug', 'info', 'warn', 'warning', 'error', 'fatal', 'critical'].some(
      (m) => typeof (value as Record<string, unknown>)[m] === 'function',
    )
  );
}

/** Checks a config object against the table: settings become a layer; hooks and the logger are kept apart. */
export function readConfigObject(path: string, object: unknown): FileConfig {
  const problems: string[] = [];
  const layer: Layer = {};
  const hooks: Hooks = {};
  let logger: CustomLogger | undefined;
  const at = (message: string) => problems.push(`${path}: ${message}`);
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    at('expected an object of settings (export default defineConfig({ ... }))');
    return { path, layer, hooks, logger, problems };
  }
  const names = fileNames();
  const givenAs = new Map<string, string>();
  for (const [name, value] of Object.entries(object)) {
    if (value === undefined) continue;
    if ((hookNames as string[]).includes(name)) {
      if (typeof value === 'function') (hooks as Record<string, unknown>)[name] = value;
      else at(`hook "${name}" must be a function, got ${typeof value}`);
      continue;
    }
    if (name === 'logger') {
      if (isLogger(value)) logger = value;
      else at('"logger" must be an object with logging methods (info, warn, error, …), e.g. a pino logger');
      continue;
    }
    const s = names.get(name);
    if (!s) {
      const hint = nearest(name, [...names.keys(), ...hookNames, 'logger']);
      at(`unknown setting "${name}"${hint ? ` — did you mean "${hint}"?` : ''}`);
      continue;
    }
    if (s.cliOnly) {
      at(`"${name}" cannot be set in a config file; give ${s.flags.at(-1)} on the command line`);
      continue;
    }
    const earlier = givenAs.get(s.key);
    if (earlier) {
      at(`"${name}" and "${earlier}" are the same setting; give it once`);
      continue;
    }
    givenAs.set(s.key, name);
    try {
      layer[s.key] = s.kind.check(value);
    } catch (err) {
      at(`setting "${name}": ${(err as Error).message}`);
    }
  }
  return { path, layer, hooks, logger, problems };
}

/** Imports and checks a config file; an import failure is one more problem, not a crash. */
export async function loadConfigFile(file: string, cwd: string): Promise<FileConfig> {
  const path = resolve(cwd, file);
  if (!existsSync(path)) {
    return {
      path,
      layer: {},
      hooks: {},
      logger: undefined,
      problems: [`config file ${path} does not exist`],
    };
  }
  let object: unknown;
  try {
    object = await importFile(path);
  } catch (err) {
    return {
      path,
      layer: {},
      hooks: {},
      logger: undefined,
      problems: [`${path}: cannot load the config file: ${(err as Error)?.stack ?? err}`],
    };
  }
  return readConfigObject(path, object);
}
