import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { cli, fixture, startServer, waitFor } from '../helpers/server.ts';
import { requireTool } from '../helpers/tools.ts';

test('tsunicorn top renders the workers in a terminal (tmux) and quits on q', async (t) => {
  const tmux = requireTool('tmux', 'tmux');
  const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('pid.mjs')], { workers: 2 });
  t.after(() => server.kill());
  const socket = (await server.waitForLog(/Control socket: (\S+)/))[1]!;
  const session = `tsunicorn-top-${process.pid}`;
  execFileSync(tmux, [
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '160',
    '-y',
    '40',
    `${process.execPath} ${cli} top --socket ${socket}; echo TOP-EXITED-$?; sleep 30`,
  ]);
  t.after(() => {
    try {
      execFileSync(tmux, ['kill-session', '-t', session], { stdio: 'ignore' });
    } catch {}
  });
  const screen = () => execFileSync(tmux, ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  const shown = await waitFor(() => {
    const s = screen();
    return server.workers().every((pid) => s.includes(String(pid))) && /PID\s+ID\s+AGE/.test(s) && s;
  }, 'the worker table');
  assert.match(shown, new RegExp(`master ${server.pid}`));
  assert.match(shown, /req\/s/);
  execFileSync(tmux, ['send-keys', '-t', session, 'q']);
  await waitFor(() => screen().includes('TOP-EXITED-0'), 'top to quit on q', 5000);
});
