import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { settingsByKey } from '../../src/config/table.ts';
import { Pidfile } from '../../src/master/pidfile.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-pidfile-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a pid file naming a running process refuses the start and names the pid', () => {
  const path = join(tmp, 'live.pid');
  writeFileSync(path, `${process.ppid}\n`);
  assert.throws(() => Pidfile.create(path), new RegExp(`Already running on pid ${process.ppid}`));
  assert.equal(readFileSync(path, 'utf8'), `${process.ppid}\n`);
});

test('a stale pid file is replaced; removal leaves a file another process rewrote', () => {
  const path = join(tmp, 'stale.pid');
  writeFileSync(path, `${spawnSync('true').pid}\n`);
  const pidfile = Pidfile.create(path);
  assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  pidfile.rename(join(tmp, 'moved.pid'));
  assert.ok(!existsSync(path));
  writeFileSync(join(tmp, 'moved.pid'), '1\n');
  pidfile.remove();
  assert.ok(existsSync(join(tmp, 'moved.pid')), 'not ours any more');
  writeFileSync(join(tmp, 'moved.pid'), `${process.pid}\n`);
  pidfile.remove();
  assert.ok(!existsSync(join(tmp, 'moved.pid')));
});

test('--umask reads octal, whatever the prefix', () => {
  const kind = settingsByKey.get('umask')!.kind;
  assert.equal(kind.fromString('022'), 0o22);
  assert.equal(kind.fromString('0o077'), 0o77);
  assert.equal(kind.fromString('7'), 0o7);
  assert.throws(() => kind.fromString('089'), /octal/);
  assert.throws(() => kind.fromString('1777'), /octal/);
});
