import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { shellSplit } from '../../src/config/shlex.ts';
import { TsunicornError } from '../../src/errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let dirs = 0;
/** A fresh directory holding one config file. */
function withConfig(name: string, text: string): string {
  const dir = join(tmp, String(++dirs));
  mkdirSync(dir);
  writeFileSync(join(dir, name), text);
  return dir;
}

async function problems(argv: string[], env: Record<string, string>, cwd: string): Promise<string> {
  try {
    await loadConfig(argv, env, cwd);
  } catch (err) {
    assert.ok(err instanceof TsunicornError);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('config resolution', () => {
  test('defaults < config file < WEB_CONCURRENCY < TSUNICORN_CMD_ARGS < command line', async () => {
    const cwd = withConfig('tsunicorn.config.mjs', 'export default { workers: 2, backlog: 100 };\n');
    const workers = async (argv: string[], env: Record<string, string>) =>
      (await loadConfig(['app.mjs', ...argv], env, cwd)).config.workers;
    assert.equal(await workers([], {}), 2);
    assert.equal(await workers([], { WEB_CONCURRENCY: '3' }), 3);
    assert.equal(await workers([], { WEB_CONCURRENCY: '3', TSUNICORN_CMD_ARGS: '-w 4' }), 4);
    assert.equal(await workers(['--workers', '5'], { WEB_CONCURRENCY: '3', TSUNICORN_CMD_ARGS: '-w 4' }), 5);
    const { config } = await loadConfig(['app.mjs'], {}, cwd);
    assert.equal(config.backlog, 100);
    assert.equal(config.config, join(cwd, 'tsunicorn.config.mjs'));
    assert.ok(Object.isFrozen(config));
  });

  test('PORT binds all interfaces unless a later layer binds', async () => {
    const cwd = withConfig('tsunicorn.config.json', '{ "bind": "127.0.0.1:9000" }');
    assert.deepEqual((await loadConfig(['a.mjs'], {}, cwd)).config.bind, ['127.0.0.1:9000']);
    assert.deepEqual((await loadConfig(['a.mjs'], { PORT: '7000' }, cwd)).config.bind, ['0.0.0.0:7000']);
    assert.deepEqual((await loadConfig(['a.mjs', '-b', ':1'], { PORT: '7000' }, cwd)).config.bind, [':1']);
  });

  test('snake_case and Gunicorn names are aliases of the camelCase keys', async () => {
    const cwd = withConfig(
      'tsunicorn.config.cjs',
      'module.exports = { graceful_timeout: 5, loglevel: "debug", accesslog: "-", preload_app: true, raw_env: ["A=1", "B=x=y"] };\n',
    );
    const { config } = await loadConfig(['a.mjs'], {}, cwd);
    assert.equal(config.gracefulTimeout, 5);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.accessLogfile, '-');
    assert.equal(config.preload, true);
    assert.deepEqual(config.env, { A: '1', B: 'x=y' });
  });

  test('a TypeScript config file loads through tsx; module-level exports work as in Gunicorn', async () => {
    const cwd = withConfig('tsunicorn.config.ts', 'enum W { n = 3 }\nexport const workers: number = W.n;\n');
    assert.equal((await loadConfig(['a.mjs'], {}, cwd)).config.workers, 3);
  });

  test('hooks and the logger are kept apart from the settings', async () => {
    const cwd = withConfig(
      'tsunicorn.config.mjs',
      'export default { onStarting() {}, afterRequest() {}, logger: { info() {} } };\n',
    );
    const loaded = await loadConfig(['a.mjs'], {}, cwd);
    assert.deepEqual(Object.keys(loaded.hooks).sort(), ['afterRequest', 'onStarting']);
    assert.equal(typeof loaded.logger?.info, 'function');
    assert.ok(!('onStarting' in loaded.config));
  });

  test('every problem of every source is reported at once, with the nearest name', async () => {
    const cwd = withConfig(
      'tsunicorn.config.mjs',
      'export default { wokers: 2, workers: "x", onReady: 1, config: "x.js" };\n',
    );
    const message = await problems(['--wokers', '2', 'a.mjs'], { TSUNICORN_CMD_ARGS: '--backlog=no' }, cwd);
    const lines = message.split('\n');
    assert.ok(
      lines.some((l) => l.endsWith('unknown setting "wokers" — did you mean "workers"?')),
      message,
    );
    assert.ok(
      lines.some((l) => /setting "workers": expected an integer .* got "x"/.test(l)),
      message,
    );
    assert.ok(
      lines.some((l) => l.includes('hook "onReady" must be a function')),
      message,
    );
    assert.ok(
      lines.some((l) => l.includes('"config" cannot be set in a config file')),
      message,
    );
    assert.ok(lines.includes('unknown option --wokers — did you mean --workers?'), message);
    assert.ok(
      lines.some((l) => l.startsWith('TSUNICORN_CMD_ARGS: --backlog')),
      message,
    );
    assert.equal(lines.length, 6, message);
  });

  test('an explicit config file that does not exist is a bad setting', async () => {
    const message = await problems(['-c', 'missing.ts', 'a.mjs'], {}, tmp);
    assert.match(message, /missing\.ts does not exist/);
  });

  test('-c in TSUNICORN_CMD_ARGS names the config file', async () => {
    const cwd = withConfig('other.json', '{ "workers": 7 }');
    const { config } = await loadConfig(['a.mjs'], { TSUNICORN_CMD_ARGS: '-c other.json' }, cwd);
    assert.equal(config.workers, 7);
  });
});

describe('TSUNICORN_CMD_ARGS splitting', () => {
  test('splits as a POSIX shell would', () => {
    assert.deepEqual(shellSplit(`-w 3  --access-logformat '%(h)s "%(r)s"' -e A="b c" x\\ y`), [
      '-w',
      '3',
      '--access-logformat',
      '%(h)s "%(r)s"',
      '-e',
      'A=b c',
      'x y',
    ]);
    assert.throws(() => shellSplit(`-e 'open`), /unterminated/);
  });
});
