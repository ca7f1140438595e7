import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sectionTitles, settings } from '../../src/config/table.ts';
import { cli, fixture, root } from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-settings-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: opts.cwd ?? root,
    env: { ...process.env, WEB_CONCURRENCY: '', PORT: '', TSUNICORN_CMD_ARGS: '', ...opts.env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('settings from the command line, the environment and a config file', () => {
  test('--help lists every setting, grouped by section in table order', () => {
    const { code, stdout } = run(['--help']);
    assert.equal(code, 0);
    let at = 0;
    for (const title of Object.values(sectionTitles)) {
      const i = stdout.indexOf(`\n${title}:\n`, at);
      assert.ok(i > at, `section ${title} missing or out of order`);
      at = i;
    }
    for (const s of settings) {
      if (s.flags.length) assert.ok(stdout.includes(s.flags.at(-1)!), `${s.key} missing from --help`);
    }
  });

  test('the worker count resolves config file < TSUNICORN_CMD_ARGS < command line (--print-config)', () => {
    const cwd = mkdtempSync(join(tmp, 'precedence-'));
    writeFileSync(join(cwd, 'tsunicorn.config.mjs'), 'export default { workers: 2 };\n');
    const workers = (args: string[], env: Record<string, string> = {}) => {
      const r = run(['--print-config', ...args, fixture('pid.mjs')], { cwd, env });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).workers;
    };
    assert.equal(workers([]), 2);
    assert.equal(workers([], { TSUNICORN_CMD_ARGS: '-w 3' }), 3);
    assert.equal(workers(['-w', '4'], { TSUNICORN_CMD_ARGS: '-w 3' }), 4);
  });

  test('workers: "x" in the config file exits 2 naming the key and the type', () => {
    const file = join(tmp, 'bad-type.config.mjs');
    writeFileSync(file, 'export default { workers: "x" };\n');
    const r = run(['-c', file, fixture('pid.mjs')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /setting "workers": expected an integer from 1 to \d+, got "x"/);
  });

  test('--wokers 2 exits 2 suggesting --workers', () => {
    const r = run(['--wokers', '2', fixture('pid.mjs')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --wokers — did you mean --workers\?/);
    assert.doesNotMatch(r.stderr, /unexpected argument/);
  });

  test('an unknown key in the config file exits 2 with the nearest name', () => {
    const file = join(tmp, 'typo.config.json');
    writeFileSync(file, '{ "wokers": 2, "gracefull_timeout": 3 }');
    const r = run(['-c', file, fixture('pid.mjs')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown setting "wokers" — did you mean "workers"\?/);
    assert.match(r.stderr, /unknown setting "gracefull_timeout" — did you mean "graceful_timeout"\?/);
  });

  test('--check-config: 0 when the app loads, 1 when it does not, 2 for a bad setting', () => {
    assert.equal(run(['--check-config', fixture('pid.mjs')]).code, 0);
    const broken = run(['--check-config', fixture('throws-at-import.mjs')]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /App failed to load/);
    assert.equal(run(['--check-config', '--backlog', 'many', fixture('pid.mjs')]).code, 2);
  });
});
