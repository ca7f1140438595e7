import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAppSpec } from '../../src/http/app-loader.ts';

test('module, export and factory specs', () => {
  assert.deepEqual(parseAppSpec('app.ts'), { module: 'app.ts' });
  assert.deepEqual(parseAppSpec('src/app.js:server'), { module: 'src/app.js', attr: 'server' });
  assert.deepEqual(parseAppSpec('pkg/module:ns.app'), { module: 'pkg/module', attr: 'ns.app' });
  assert.deepEqual(parseAppSpec('app.ts:create()'), { module: 'app.ts', attr: 'create', args: [] });
  assert.deepEqual(parseAppSpec("app.ts:create(1, 'a,b', null)"), {
    module: 'app.ts',
    attr: 'create',
    args: [1, 'a,b', null],
  });
  assert.deepEqual(parseAppSpec('app.ts:create(port=1, debug=true)'), {
    module: 'app.ts',
    attr: 'create',
    args: [{ port: 1, debug: true }],
  });
  assert.deepEqual(parseAppSpec('app.ts:create("x", n=2)'), {
    module: 'app.ts',
    attr: 'create',
    args: ['x', { n: 2 }],
  });
});

test('bad specs say what form to use', () => {
  assert.throws(() => parseAppSpec(''), /it is empty/);
  assert.throws(() => parseAppSpec('app.ts:create(oops)'), /oops is not a literal/);
  assert.throws(() => parseAppSpec("app.ts:create('open)"), /unterminated string/);
});
