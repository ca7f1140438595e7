/**
 * docs/reference/settings.md and docs/hooks.md, rendered from the settings table and the hook table. A unit
 * test renders both and compares them with the files, so the docs cannot drift from the code.
 */
import { type Setting, snakeCase } from '../config/setting.js';
import { sectionTitles, settings } from '../config/table.js';
import { hookDocs, hookNames } from '../lifecycle/hooks.js';
import { defaultText } from './help.js';

export const settingsReferencePath = 'docs/reference/settings.md';
export const hooksReferencePath = 'docs/hooks.md';

function code(text: string): string {
  return `\`${text}\``;
}

export function renderSettingsReference(): string {
  const lines = [
    '<!-- Generated from the settings table (src/config/settings/*.ts) by `npm run docs`; edit the table, not this file. -->',
    '',
    '# Settings',
    '',
    'Every setting can be given on the command line, in `TSUNICORN_CMD_ARGS` (the same flags, split as a shell',
    'would) and, unless noted, in a config file (`-c FILE`, default `./tsunicorn.config.{ts,mts,js,mjs,cjs,json}`)',
    'under its camelCase key or its snake_case form. Precedence: defaults < config file < environment',
    '(`WEB_CONCURRENCY`, `PORT`, then `TSUNICORN_CMD_ARGS`) < command line. Hooks are described in',
    '[hooks.md](../hooks.md).',
    '',
  ];
  for (const [section, title] of Object.entries(sectionTitles)) {
    const rows = (settings as readonly Setting[]).filter((s) => s.section === section);
    if (!rows.length) continue;
    lines.push(`## ${title}`, '');
    for (const s of rows) {
      lines.push(`### ${code(s.key)}`, '');
      const flags = s.flags.length
        ? s.flags.map((f) => code(s.metavar ? `${f} ${s.metavar}` : f)).join(', ')
        : `positional ${code(s.metavar ?? '')}`;
      const names = s.cliOnly
        ? 'command line only'
        : [s.key, snakeCase(s.key), ...(s.aliases ?? [])]
            .filter((n, i, all) => all.indexOf(n) === i)
            .map(code)
            .join(', ');
      lines.push(`- Command line: ${flags}`);
      lines.push(`- Config file: ${names}`);
      lines.push(`- Type: ${s.kind.describe}${s.repeatable ? ' (repeatable)' : ''}`);
      const shown = s.default === false ? 'false' : defaultText(s);
      const def = s.defaultDoc ?? (shown === undefined ? undefined : code(shown));
      lines.push(`- Default: ${def ?? 'none'}`);
      lines.push('', s.doc, '');
    }
  }
  return lines.join('\n');
}

export function renderHooksReference(): string {
  const lines = [
    '<!-- Generated from the hook table (src/lifecycle/hooks.ts) by `npm run docs`; edit the table, not this file. -->',
    '',
    '# Server hooks',
    '',
    'Hooks are functions in the config file, typed by `defineConfig`:',
    '',
    '```ts',
    "import { defineConfig } from 'tsunicorn';",
    '',
    'export default defineConfig({',
    '  workers: 4,',
    '  afterRequest(worker, req, res, durationMs) {',
    "    if (durationMs > 1000) console.warn('slow:', req.method, req.url);",
    '  },',
    '});',
    '```',
    '',
    'Each hook runs isolated: a hook that throws or rejects is logged at ERROR (`Hook NAME failed`) and the server',
    'carries on. The master awaits `onStarting`, `onReady` and `onExit`; a worker awaits `afterFork`,',
    '`afterWorkerBoot`, `onWorkerInterrupt` and `onWorkerExit`; the rest are not awaited. Workers are spawned, not',
    "forked, so each worker imports the config file itself to find its hooks (the master's settings still apply).",
    '`server` is `{ pid, config }` (the master); `worker` is `{ pid, id, age, generation }`.',
    '',
    'A config file may also give `logger`: an object with logging methods (`info`, `warn`/`warning`, `error`,',
    '`fatal`/`critical`, `debug`), e.g. a pino instance, which then receives every error-log line of master and',
    'workers.',
    '',
    '| hook | Gunicorn | process | arguments | when |',
    '|---|---|---|---|---|',
  ];
  for (const name of hookNames) {
    const h = hookDocs[name];
    lines.push(`| ${code(name)} | ${code(h.gunicorn)} | ${h.process} | ${code(h.signature)} | ${h.when} |`);
  }
  lines.push('');
  return lines.join('\n');
}
