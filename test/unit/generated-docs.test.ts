import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  hooksReferencePath,
  renderHooksReference,
  renderSettingsReference,
  settingsReferencePath,
} from '../../src/cli/reference.ts';
import { settings } from '../../src/config/table.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const stale = 'is stale: run `npm run docs` and commit the result';

test('docs/reference/settings.md matches the settings table', () => {
  const text = readFileSync(`${root}/${settingsReferencePath}`, 'utf8');
  assert.match(text.split('\n')[0]!, /^<!-- Generated from the settings table/);
  assert.equal(text, renderSettingsReference(), `${settingsReferencePath} ${stale}`);
  for (const s of settings) assert.ok(text.includes(`### \`${s.key}\``), s.key);
});

test('docs/hooks.md matches the hook table', () => {
  const text = readFileSync(`${root}/${hooksReferencePath}`, 'utf8');
  assert.equal(text, renderHooksReference(), `${hooksReferencePath} ${stale}`);
});
