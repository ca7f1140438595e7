import { parseArgs } from 'node:util';
import { TsunicornError } from '../errors.js';
import type { Setting } from './setting.js';
import { type Config, settings, settingsByKey } from './table.js';

export type Layer = Partial<Record<string, unknown>>;

/** What the command line asks for besides settings. */
export type CliAction = 'serve' | 'help' | 'version';

const actionFlags = {
  help: { short: 'h', doc: 'Show this help and exit.' },
  version: { short: 'v', doc: "Show tsunicorn's version and exit." },
} as const;

export { actionFlags };

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The nearest candidate within a small edit distance, for "did you mean" hints. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = levenshtein(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function longName(s: Setting): string | undefined {
  return s.flags.find((f) => f.startsWith('--'))?.slice(2);
}

function example(s: Setting): string {
  return `${s.flags.at(-1)} ${s.metavar ?? ''}`.trim();
}

/** Merges a repeated value into what an earlier occurrence in the same layer gave. */
function merge(prev: unknown, next: unknown): unknown {
  if (Array.isArray(prev) && Array.isArray(next)) return [...prev, ...next];
  if (prev && next && typeof prev === 'object' && typeof next === 'object') return { ...prev, ...next };
  return next;
}

/** Parses argv against the table. Every problem is collected; they are thrown together. */
export function parseArgv(argv: readonly string[]): { action: CliAction; layer: Layer } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const s of settings as readonly Setting[]) {
    const long = longName(s);
    if (!long) continue;
    const short = s.flags.find((f) => /^-[^-]$/.test(f))?.slice(1);
    options[long] = { type: s.metavar ? 'string' : 'boolean', ...(short ? { short } : {}) };
  }
  for (const [name, { short }] of Object.entries(actionFlags)) options[name] = { type: 'boolean', short };

  const byLong = new Map((settings as readonly Setting[]).map((s) => [longName(s), s]));
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const layer: Layer = {};
  const problems: string[] = [];
  let action: CliAction = 'serve';
  const appSetting = settingsByKey.get('app')!;
  // An unknown option's value must not be taken for the app: `--wokers 2 app.ts` is one mistake, not two.
  let skipValueAt = -1;
  for (const t of tokens ?? []) {
    if (t.kind === 'positional' && t.index === skipValueAt) continue;
    if (t.kind === 'positional') {
      if (layer.app !== undefined) {
        problems.push(
          `unexpected argument ${JSON.stringify(t.value)}: give one APP_SPEC (flags go before or after it)`,
        );
      } else {
        layer.app = appSetting.kind.fromString(t.value);
      }
      continue;
    }
    if (t.kind !== 'option') continue;
    if (t.name in actionFlags) {
      action = t.name as CliAction;
      continue;
    }
    const s = byLong.get(t.name);
    if (!s) {
      const hint = nearest(
        t.name,
        [...byLong.keys()].filter((n): n is string => !!n),
      );
      problems.push(
        `unknown option ${t.rawName}${hint ? ` — did you mean --${hint}?` : '; see tsunicorn --help'}`,
      );
      if (hint && byLong.get(hint)?.metavar && !t.inlineValue) skipValueAt = t.index + 1;
      continue;
    }
    if (s.metavar && t.value === undefined) {
      problems.push(`${t.rawName} needs a value, e.g. ${example(s)}`);
      continue;
    }
    if (!s.metavar && t.value !== undefined) {
      problems.push(`${t.rawName} takes no value`);
      continue;
    }
    try {
      const value = s.metavar ? s.kind.fromString(t.value!) : true;
      layer[s.key] = s.repeatable && s.key in layer ? merge(layer[s.key], value) : value;
    } catch (err) {
      problems.push(`${t.rawName}: ${(err as Error).message} (e.g. ${example(s)})`);
    }
  }
  if (problems.length) throw new TsunicornError('TSU_ERR_USAGE', problems.join('\n'));
  return { action, layer };
}

/** The conventional variables of the platform-as-a-service world (Heroku, Render, Cloud Run). */
export function envLayer(env: Readonly<Record<string, string | undefined>>): Layer {
  const layer: Layer = {};
  const problems: string[] = [];
  if (env.WEB_CONCURRENCY) {
    try {
      layer.workers = settingsByKey.get('workers')!.kind.fromString(env.WEB_CONCURRENCY);
    } catch (err) {
      problems.push(`WEB_CONCURRENCY: ${(err as Error).message}`);
    }
  }
  if (env.PORT) {
    try {
      layer.bind = settingsByKey.get('bind')!.kind.fromString(`0.0.0.0:${env.PORT}`);
    } catch (err) {
      problems.push(`PORT: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new TsunicornError('TSU_ERR_USAGE', problems.join('\n'));
  return layer;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Layers settings once — defaults < config file < environment < argv, later layers replacing earlier ones —
 * and freezes the result.
 */
export function resolveConfig(
  layers: readonly Layer[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const resolved: Record<string, unknown> = {};
  for (const s of settings as readonly Setting[]) {
    const given = layers.findLast((l) => l[s.key] !== undefined)?.[s.key];
    resolved[s.key] =
      given !== undefined
        ? given
        : typeof s.default === 'function'
          ? (s.default as Function)({ env, resolved })
          : s.default;
  }
  return deepFreeze(resolved) as unknown as Config;
}
