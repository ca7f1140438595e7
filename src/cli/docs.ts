/** `npm run docs`: rewrites the generated references from the tables. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  hooksReferencePath,
  renderHooksReference,
  renderSettingsReference,
  settingsReferencePath,
} from './reference.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
for (const [path, text] of [
  [settingsReferencePath, renderSettingsReference()],
  [hooksReferencePath, renderHooksReference()],
] as const) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
