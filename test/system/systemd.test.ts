/**
 * systemd integration with the real tools: `systemd-socket-activate` passes the sockets (LISTEN_FDS) and
 * execs the master in place, and a unix datagram socket stands in for systemd's NOTIFY_SOCKET.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cli, fixture, isAlive, request, root, waitFor, waitServing } from '../helpers/server.ts';
import { requireTool } from '../helpers/tools.ts';

const activate = requireTool('systemd-socket-activate', 'systemd');
requireTool('systemd-notify', 'systemd');
const python = requireTool('python3', 'python3');

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-systemd-'));
const running = new Set<ChildProcess>();
after(() => {
  for (const p of running) p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Receives sd_notify datagrams; closes any descriptor passed along (systemd-notify's barrier waits on it). */
const receiver = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('bound', flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array('i')
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(msg.decode().replace('\\n', ' '), flush=True)
`;

function run(command: string, args: string[], env: Record<string, string | undefined> = process.env) {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const out = { child, text: '', lines: [] as string[] };
  const collect = (d: Buffer) => {
    out.text += d;
    out.lines = out.text.split('\n').filter(Boolean);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return out;
}

async function notifySocket(name: string) {
  const path = join(tmp, name);
  const r = run(python, ['-c', receiver, path]);
  await waitFor(() => r.text.includes('bound'), `the notify receiver\n${r.text}`);
  return { path, messages: () => r.lines.filter((l) => l !== 'bound') };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const masterArgs = ['-w', '2', '--log-level', 'debug', fixture('pid.mjs')];

describe('systemd', () => {
  test('socket activation over TCP serves; READY=1 arrives once both workers booted; HUP and TERM are reported', async () => {
    const notify = await notifySocket('tcp.notify');
    const port = await freePort();
    const master = run(activate, [
      '-l',
      `127.0.0.1:${port}`,
      '-E',
      `NOTIFY_SOCKET=${notify.path}`,
      '-E',
      `PATH=${process.env.PATH}`,
      process.execPath,
      cli,
      ...masterArgs,
    ]);
    // systemd-socket-activate starts the service on the first connection, once it listens itself.
    await waitServing({ port });
    await waitFor(() => notify.messages().some((m) => m.includes('READY=1')), `READY=1\n${master.text}`);

    const ready = notify.messages().find((m) => m.includes('READY=1'))!;
    assert.match(ready, /STATUS=2 workers serving/, 'both workers had booted when READY=1 was sent');
    assert.equal(
      master.text.match(/Worker \(pid:\d+\) booted/g)?.length,
      2,
      `the log shows both boots before READY=1 arrived\n${master.text}`,
    );
    assert.match(master.text, /Using 1 socket\(s\) from systemd/);
    assert.match(
      master.text,
      new RegExp(`Listening at: http://127\\.0\\.0\\.1:${port} \\(${master.child.pid}\\)`),
    );
    assert.equal(notify.messages().filter((m) => m.includes('READY=1')).length, 1);

    master.child.kill('SIGHUP');
    await waitFor(
      () => notify.messages().filter((m) => m.includes('READY=1')).length === 2,
      'READY=1 after HUP',
    );
    const afterHup = notify.messages();
    const reloading = afterHup.findIndex((m) => m.includes('RELOADING=1'));
    assert.ok(reloading >= 0 && reloading < afterHup.findLastIndex((m) => m.includes('READY=1')));

    master.child.kill('SIGTERM');
    await waitFor(() => notify.messages().some((m) => m.includes('STOPPING=1')), 'STOPPING=1');
    await waitFor(() => master.child.exitCode !== null, `the master to exit\n${master.text}`);
    assert.equal(master.child.exitCode, 0);
  });

  test('socket activation over a unix socket serves, and the socket file outlives the master', async () => {
    const sock = join(tmp, 'activated.sock');
    const master = run(activate, [
      '-l',
      sock,
      '-E',
      `PATH=${process.env.PATH}`,
      process.execPath,
      cli,
      ...masterArgs,
    ]);
    await waitFor(() => existsSync(sock), 'the socket');
    assert.equal((await request({ socketPath: sock }, '/', { timeoutMs: 20_000 })).status, 200);
    assert.match(master.text, new RegExp(`Listening at: unix:${sock} `));
    master.child.kill('SIGTERM');
    await waitFor(() => !isAlive(master.child.pid!), 'the master to exit');
    assert.ok(existsSync(sock), 'an inherited socket is never unlinked');
  });
});
