import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { transitions } from '../../src/lifecycle/states.ts';

test('docs/lifecycle.md draws the same transition table as the code', () => {
  const doc = readFileSync(new URL('../../docs/lifecycle.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| (\w+) \| ([^|]+) \|$/gm)].filter(([, from]) => from !== 'from');
  const documented = Object.fromEntries(
    rows.map(([, from, to]) => [from, to!.trim() === '—' ? [] : to!.split(',').map((s) => s.trim())]),
  );
  assert.deepEqual(documented, transitions);
});
