import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookRunner } from '../../src/lifecycle/hooks.ts';
import { configureErrorLog } from '../../src/logging/logger.ts';

const server = { pid: 1, config: {} as never };

test('a hook that throws or rejects is logged and never propagates', async (t) => {
  const lines: string[] = [];
  configureErrorLog({ file: '-', json: false, logger: { error: (line: string) => lines.push(line) } });
  t.after(() => configureErrorLog({ file: '-', json: false }));
  const hooks = new HookRunner({
    onStarting() {
      throw new Error('sync boom');
    },
    async onReady() {
      throw new Error('async boom');
    },
  });
  await hooks.run('onStarting', server);
  await hooks.run('onReady', server);
  await hooks.run('onExit', server);
  assert.ok(
    lines.some((l) => l.includes('Hook onStarting failed') && l.includes('sync boom')),
    lines.join(''),
  );
  assert.ok(
    lines.some((l) => l.includes('Hook onReady failed') && l.includes('async boom')),
    lines.join(''),
  );
});

test('replace swaps the hooks a HUP re-read', async () => {
  const calls: string[] = [];
  const hooks = new HookRunner({ onReload: () => void calls.push('old') });
  hooks.replace({ onReload: () => void calls.push('new') });
  await hooks.run('onReload', server);
  assert.deepEqual(calls, ['new']);
});
