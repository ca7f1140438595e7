import { actionFlags } from '../config/resolve.js';
import type { Setting } from '../config/setting.js';
import { sectionTitles, settings } from '../config/table.js';

export function defaultText(s: Setting): string | undefined {
  if (s.defaultDoc) return s.defaultDoc.replace(/`/g, '');
  if (typeof s.default === 'function') return undefined;
  if (s.default === '' || s.default === false) return undefined;
  if (Array.isArray(s.default)) return s.default.length ? s.default.join(', ') : undefined;
  if (typeof s.default === 'object')
    return Object.keys(s.default as object).length ? JSON.stringify(s.default) : undefined;
  return String(s.default);
}

/** --help, grouped by section, from the settings table. */
export function renderHelp(): string {
  const lines = [
    'usage: tsunicorn [OPTIONS] APP_SPEC',
    '',
    'Gunicorn for Node.js: a pre-fork HTTP server for Node and Web fetch apps.',
    '',
  ];
  const rows = (items: [string, string][]) => {
    for (const [left, right] of items) {
      lines.push(
        left.length < 30 ? `  ${left.padEnd(30)}${right}` : `  ${left}\n  ${' '.repeat(30)}${right}`,
      );
    }
  };
  lines.push('Positional:');
  rows([['APP_SPEC', settings.find((s) => s.key === 'app')!.doc.replace(/`/g, '')]]);
  for (const [section, title] of Object.entries(sectionTitles)) {
    const items: [string, string][] = [];
    for (const s of settings as readonly Setting[]) {
      if (s.section !== section || s.flags.length === 0) continue;
      const flags = s.flags.join(', ') + (s.metavar ? ` ${s.metavar}` : '');
      const def = defaultText(s);
      items.push([flags, `${s.doc.replace(/`/g, '')}${def ? ` [default: ${def}]` : ''}`]);
    }
    if (!items.length) continue;
    lines.push('', `${title}:`);
    rows(items);
  }
  lines.push('', 'Other:');
  rows(Object.entries(actionFlags).map(([name, { short, doc }]) => [`-${short}, --${name}`, doc]));
  lines.push(
    '',
    'Signals to the master: TERM graceful stop, INT/QUIT quick stop, HUP reload, TTIN/TTOU one more/fewer worker.',
    '',
  );
  return lines.join('\n');
}
