import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  childPids,
  cli,
  fixture,
  isAlive,
  readPid,
  root,
  Server,
  startServer,
  waitFor,
  waitServing,
} from '../helpers/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-hygiene-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A field of /proc/PID/status, e.g. `Uid` → its first value. */
const procStatus = (pid: number, field: string) =>
  new RegExp(`^${field}:[ \\t]*(\\S*)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
/** Whether a user other than the owner can reach `path`: read on it, search on every directory above it. */
function openToOthers(path: string): boolean {
  if ((statSync(path).mode & 0o004) === 0) return false;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}

const title = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0.*$/s, '');

describe('process hygiene', () => {
  test('-p: the pid file holds the master pid, a second start naming a live master fails, and it is removed at exit', async (t) => {
    const pidfile = join(tmp, 'app.pid');
    const first = await startServer(['-w', '1', '-b', '127.0.0.1:0', '-p', pidfile, fixture('pid.mjs')], {
      workers: 1,
    });
    t.after(() => first.kill());
    assert.equal(readPid(pidfile), first.pid);

    const second = new Server(['-w', '1', '-b', '127.0.0.1:0', '-p', pidfile, fixture('pid.mjs')]);
    t.after(() => second.kill());
    const { code } = await second.exited();
    assert.notEqual(code, 0);
    assert.match(second.log, new RegExp(`Already running on pid ${first.pid}`));
    assert.doesNotMatch(second.log, /Listening at:/, 'it stopped before binding');
    assert.equal(readPid(pidfile), first.pid, 'the refused start left the file alone');

    first.signal('SIGTERM');
    await first.exited();
    assert.ok(!existsSync(pidfile));
  });

  test('-p: a pid file naming a dead process is stale and replaced', async (t) => {
    const pidfile = join(tmp, 'stale.pid');
    const dead = spawnSync('true').pid!;
    writeFileSync(pidfile, `${dead}\n`);
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', '-p', pidfile, fixture('pid.mjs')]);
    t.after(() => server.kill());
    await waitFor(() => readPid(pidfile) === server.pid, 'the pid file to be rewritten');
  });

  test('-u/-g: workers run as nobody:nogroup, the master stays root, the unix socket belongs to the workers', async (t) => {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (as in CI)');
    assert.ok(
      openToOthers(fixture('pid.mjs')),
      `workers running as nobody must reach ${fixture('pid.mjs')}: check out the repository where other users can read it (chmod o+rx on its directories)`,
    );
    const sock = join(tmp, 'nobody.sock');
    const server = await startServer(
      ['-w', '2', '-b', `unix:${sock}`, '-u', 'nobody', '-g', 'nogroup', fixture('pid.mjs')],
      { workers: 2 },
    );
    t.after(() => server.kill());
    await waitServing({ socketPath: sock });
    assert.equal(procStatus(server.pid, 'Uid'), '0');
    for (const pid of server.workers()) {
      assert.equal(procStatus(pid, 'Uid'), '65534');
      assert.equal(procStatus(pid, 'Gid'), '65534');
      assert.equal(procStatus(pid, 'Groups'), '', 'no supplementary group of root is kept');
    }
    const { uid, gid } = statSync(sock);
    assert.deepEqual([uid, gid], [65534, 65534]);
  });

  test('-u: an app that user cannot reach fails the boot with one line naming the user and the fix', async (t) => {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (as in CI)');
    // tmp is mkdtemp's 0700: nobody cannot search it.
    const app = join(tmp, 'closed-app.mjs');
    copyFileSync(fixture('pid.mjs'), app);
    const server = new Server(['-w', '1', '-b', '127.0.0.1:0', '-u', 'nobody', '-g', 'nogroup', app]);
    t.after(() => server.kill());
    const { code } = await server.exited();
    assert.notEqual(code, 0);
    assert.match(
      server.log,
      new RegExp(
        `App failed to load: ${app}: permission denied for user nobody \\(uid 65534\\); give it read access to the file and search \\(x\\) access to every directory above it, or choose a --user that has them\n`,
      ),
    );
  });

  test('-u: an app that meets a closed file as it loads fails with its own error, not as unreachable', async (t) => {
    assert.equal(process.getuid?.(), 0, 'this test runs as root (as in CI)');
    const open = mkdtempSync(join(tmpdir(), 'tsunicorn-open-'));
    t.after(() => rmSync(open, { recursive: true, force: true }));
    chmodSync(open, 0o755);
    const secret = join(open, 'secret.txt');
    writeFileSync(secret, 'root only\n', { mode: 0o600 });
    const app = join(open, 'reads-secret.mjs');
    writeFileSync(
      app,
      `import { readFileSync } from 'node:fs';\nreadFileSync(${JSON.stringify(secret)});\nexport default (req, res) => res.end();\n`,
      { mode: 0o644 },
    );
    const server = new Server(['-w', '1', '-b', '127.0.0.1:0', '-u', 'nobody', '-g', 'nogroup', app]);
    t.after(() => server.kill());
    const { code } = await server.exited();
    assert.notEqual(code, 0);
    assert.match(server.log, new RegExp(`App failed to load: importing ${app} threw:\n.*EACCES.*${secret}`));
    assert.doesNotMatch(server.log, /permission denied for user nobody/);
  });

  test('-u with an unknown user fails before binding', async () => {
    const server = new Server(['-b', '127.0.0.1:0', '-u', 'no-such-user-here', fixture('pid.mjs')]);
    const { code } = await server.exited();
    assert.notEqual(code, 0);
    assert.match(server.log, /--user no-such-user-here: no such user/);
  });

  test('-m: the umask applies to the unix socket and to the workers', async (t) => {
    const sock = join(tmp, 'umask.sock');
    const server = await startServer(['-w', '1', '-b', `unix:${sock}`, '-m', '077', fixture('pid.mjs')], {
      workers: 1,
    });
    t.after(() => server.kill());
    assert.equal(statSync(sock).mode & 0o077, 0, 'no group or other bits on the socket');
    assert.equal(procStatus(server.workers()[0]!, 'Umask'), '0077');
  });

  test('-n: the name appears in the master and worker process titles', async (t) => {
    const server = await startServer(['-w', '1', '-b', '127.0.0.1:0', '-n', 'shop', fixture('pid.mjs')], {
      workers: 1,
    });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    assert.equal(title(server.pid), 'tsunicorn: master [shop]');
    assert.equal(title(server.workers()[0]!), 'tsunicorn: worker [shop]');
  });

  test('-D: the command exits 0 once the daemon serves; the daemon runs in its own session', async (t) => {
    const pidfile = join(tmp, 'daemon.pid');
    const logfile = join(tmp, 'daemon.log');
    const command = spawnSync(
      process.execPath,
      [
        cli,
        '-D',
        '-w',
        '2',
        '-b',
        '127.0.0.1:0',
        '-p',
        pidfile,
        '--error-logfile',
        logfile,
        fixture('pid.mjs'),
      ],
      { cwd: root, encoding: 'utf8', timeout: 30_000 },
    );
    const daemon = readPid(pidfile);
    t.after(() => {
      for (const pid of [...childPids(daemon), daemon]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    });
    assert.equal(command.status, 0, command.stderr);
    assert.notEqual(daemon, command.pid);
    assert.ok(isAlive(daemon));
    assert.equal(childPids(daemon).length, 2, 'its workers had booted before the command returned');
    // A session leader: its session id is its own pid (field 6 of /proc/PID/stat).
    const stat = readFileSync(`/proc/${daemon}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    assert.equal(Number(stat[3]), daemon);
    const port = Number(/Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(logfile, 'utf8'))![1]);
    await waitServing({ port });

    process.kill(daemon, 'SIGTERM');
    await waitFor(() => !isAlive(daemon), 'the daemon to exit');
    assert.ok(!existsSync(pidfile));
  });

  test('-D: a daemon that cannot start makes the command fail with its exit code', () => {
    const command = spawnSync(
      process.execPath,
      [cli, '-D', '-b', '127.0.0.1:0', fixture('throws-at-import.mjs')],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(command.status, 4, command.stderr);
    assert.match(command.stderr, /the daemon \(pid \d+\) exited with code 4 before its workers served/);
  });
});
