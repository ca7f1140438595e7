import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TsunicornError } from '../errors.js';
import type { AppBinding } from './adapters/adapter.js';
import { findAdapter } from './adapters/index.js';
import { withAppExports } from './upgrades.js';

export interface AppSpec {
  readonly module: string;
  /** Dotted export path; absent means the default export. */
  readonly attr?: string;
  /** Present when the spec calls a factory: `create(1, debug=true)`. */
  readonly args?: readonly unknown[];
}

const tsExtensions = new Set(['.ts', '.mts', '.cts', '.tsx']);
const tryExtensions = ['.ts', '.js', '.mjs', '.cjs', '.mts', '.cts'];

function specError(spec: string, why: string): TsunicornError {
  return new TsunicornError('TSU_ERR_APP_SPEC', `Invalid app spec ${JSON.stringify(spec)}: ${why}`);
}

/** Splits `a, 'b,c', k=1` at top-level commas. */
function splitArgs(text: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') current += ch + (text[++i] ?? '');
      else {
        if (ch === quote) quote = undefined;
        current += ch;
      }
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (quote) throw new Error('unterminated string');
  if (current.trim() || parts.length) parts.push(current);
  return parts.map((p) => p.trim());
}

/** A literal: number, true/false/null, or a quoted string. */
function parseLiteral(text: string): unknown {
  if (/^'.*'$/s.test(text))
    return JSON.parse(`"${text.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${text} is not a literal (use numbers, 'strings', true, false or null)`);
  }
}

/**
 * Gunicorn's app spec: `MODULE[:EXPORT]` or `MODULE:FACTORY(ARGS)`. Literal arguments are passed in order;
 * `name=value` arguments are gathered into one options object passed last, as JS has no keyword arguments.
 */
export function parseAppSpec(spec: string): AppSpec {
  const m = /^(.+?):([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?:\((.*)\))?$/s.exec(spec.trim());
  if (!m) {
    if (!spec.trim()) throw specError(spec, 'it is empty; give a path such as app.ts or app.ts:create()');
    if (/[:()]/.test(spec) && !existsSync(spec))
      throw specError(spec, 'use MODULE, MODULE:EXPORT or MODULE:FACTORY(ARGS)');
    return { module: spec.trim() };
  }
  const [, module, attr, argText] = m as unknown as [string, string, string, string | undefined];
  if (argText === undefined) return { module, attr };
  const args: unknown[] = [];
  const options: Record<string, unknown> = {};
  try {
    for (const part of splitArgs(argText)) {
      const kw = /^([A-Za-z_$][\w$]*)\s*=\s*(.*)$/s.exec(part);
      if (kw) options[kw[1]!] = parseLiteral(kw[2]!);
      else args.push(parseLiteral(part));
    }
  } catch (err) {
    throw specError(spec, (err as Error).message);
  }
  if (Object.keys(options).length) args.push(options);
  return { module, attr, args };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (err) {
    // "Not found" would send the user looking in the wrong place: workers run as --user, which may not
    // reach what the one who started the server can.
    if ((err as NodeJS.ErrnoException).code === 'EACCES') throw unreadable(path);
    return false;
  }
}

/** The app, or a directory above it, is closed to the user this process runs as. */
function unreadable(path: string): TsunicornError {
  let user = `uid ${process.getuid?.()}`;
  try {
    user = `user ${userInfo().username} (${user})`;
  } catch {}
  return new TsunicornError(
    'TSU_ERR_APP_LOAD',
    `App failed to load: ${path}: permission denied for ${user}; give it read access to the file and ` +
      'search (x) access to every directory above it, or choose a --user that has them',
  );
}

/** A file path (`app.ts`, `./src/app`, `/abs/app.js`) or, failing that, a package module (`pkg/app`). */
export function resolveModule(module: string, cwd: string): string {
  const asPath = resolve(cwd, module);
  if (isFile(asPath)) return asPath;
  for (const ext of tryExtensions) if (isFile(asPath + ext)) return asPath + ext;
  for (const ext of tryExtensions)
    if (isFile(join(asPath, `index${ext}`))) return join(asPath, `index${ext}`);
  if (!module.startsWith('.') && !module.startsWith('/')) {
    try {
      return createRequire(join(cwd, 'noop.js')).resolve(module);
    } catch {}
  }
  throw new TsunicornError(
    'TSU_ERR_APP_SPEC',
    `App failed to load: cannot find ${JSON.stringify(module)} (looked for the file in ${cwd} and for a package module)`,
  );
}

let typescriptReady: Promise<unknown> | undefined;

/**
 * TypeScript apps load through tsx on every Node version: Node's own type stripping rejects enums and
 * parameter properties, so relying on it would make an app work on one Node and fail on another.
 */
function enableTypeScript(): Promise<unknown> {
  typescriptReady ??= import('tsx');
  return typescriptReady;
}

function exportsOf(ns: Record<string, unknown>): string {
  const names = Object.keys(ns).filter((k) => k !== '__esModule' && k !== 'module.exports');
  return names.length ? names.join(', ') : 'none';
}

function pick(ns: Record<string, unknown>, attr: string | undefined, file: string): unknown {
  // CommonJS compiled from TypeScript or Babel: module.exports = { __esModule: true, default: app }.
  const unwrap = (v: unknown) =>
    v && typeof v === 'object' && (v as any).__esModule && 'default' in (v as object)
      ? (v as any).default
      : v;
  if (!attr) {
    const value = unwrap(ns.default) ?? ns.app;
    if (value === undefined) {
      throw new TsunicornError(
        'TSU_ERR_APP_SPEC',
        `App failed to load: ${file} has no default export (exports found: ${exportsOf(ns)}); name one with ${file}:NAME`,
      );
    }
    return value;
  }
  let value: unknown = ns;
  const path = attr.split('.');
  for (const [i, key] of path.entries()) {
    let next = (value as Record<string, unknown> | undefined)?.[key];
    // CommonJS named exports that Node's static analysis could not see are still on module.exports.
    if (next === undefined && i === 0)
      next = (unwrap(ns.default) as Record<string, unknown> | undefined)?.[key];
    if (next === undefined) {
      throw new TsunicornError(
        'TSU_ERR_APP_SPEC',
        `App failed to load: ${file} has no export "${attr}" (exports found: ${exportsOf(ns)})`,
      );
    }
    value = next;
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `a function of ${value.length} parameters`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `a ${typeof value}`;
}

/**
 * An app may export `ready` — a promise, or a function returning one — that must settle before its worker
 * accepts connections and counts as booted (PM2's wait_ready): a database connection, a warmed cache. It is
 * bounded by --boot-timeout like the rest of the boot; a rejection is an app load error.
 */
async function awaitReadiness(ns: Record<string, unknown>, file: string): Promise<void> {
  const ready = ns.ready;
  if (ready === undefined) return;
  try {
    await (typeof ready === 'function' ? ready() : ready);
  } catch (err) {
    throw new TsunicornError(
      'TSU_ERR_APP_LOAD',
      `App failed to load: the ready export of ${file} rejected:\n${(err as Error)?.stack ?? err}`,
      { cause: err },
    );
  }
}

/** Imports the app named by the spec and binds it to an adapter. Every failure is a TSU_ERR_APP_* error. */
export async function loadApp(spec: string, cwd: string): Promise<AppBinding> {
  const parsed = parseAppSpec(spec);
  const file = resolveModule(parsed.module, cwd);
  let ns: Record<string, unknown>;
  try {
    if (tsExtensions.has(extname(file))) await enableTypeScript();
    ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    // Only the app file itself: an app that meets EACCES on another file as it loads keeps its stack.
    const denied = err as NodeJS.ErrnoException;
    if (denied?.code === 'EACCES' && denied.path === file) throw unreadable(file);
    throw new TsunicornError(
      'TSU_ERR_APP_LOAD',
      `App failed to load: importing ${file} threw:\n${(err as Error)?.stack ?? err}`,
      {
        cause: err,
      },
    );
  }
  let value = pick(ns, parsed.attr, file);
  if (parsed.args) {
    if (typeof value !== 'function') {
      throw new TsunicornError(
        'TSU_ERR_APP_SPEC',
        `App failed to load: ${file}:${parsed.attr} is ${describeValue(value)}, not a factory`,
      );
    }
    try {
      value = await value(...parsed.args);
    } catch (err) {
      throw new TsunicornError(
        'TSU_ERR_APP_LOAD',
        `App failed to load: factory ${parsed.attr}() threw:\n${(err as Error)?.stack ?? err}`,
        {
          cause: err,
        },
      );
    }
  }
  await awaitReadiness(ns, file);
  const adapter = findAdapter(value);
  if (!adapter) {
    throw new TsunicornError(
      'TSU_ERR_APP_SPEC',
      `App failed to load: ${spec} is ${describeValue(value)}; expected a (req, res) function, an http.Server, ` +
        'a fetch handler or { fetch }, or an Express, Koa, Fastify or Hono app',
    );
  }
  try {
    return withAppExports(await adapter.bind(value), ns);
  } catch (err) {
    throw new TsunicornError(
      'TSU_ERR_APP_LOAD',
      `App failed to load: ${spec} (${adapter.name}): ${(err as Error)?.stack ?? err}`,
      {
        cause: err,
      },
    );
  }
}
