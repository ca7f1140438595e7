import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixture, request, root, startServer, waitFor, waitServing } from '../helpers/server.ts';
import { requireTool } from '../helpers/tools.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tsunicorn-nginx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('docs/deploy/nginx: traffic through the real nginx over the unix socket, HUP under load, 0 errors', async (t) => {
  const nginx = requireTool('nginx', 'nginx-light');
  const sock = join(tmp, 'app.sock');
  const port = 18_000 + (process.pid % 1000);
  // The wrapper runs nginx's workers as the test's user, who owns the socket; a deployment gives nginx's user
  // access to the socket's directory instead (docs/deploy/nginx.md).
  // The shipped file, with only the socket path and the port made local to this test.
  const site = readFileSync(join(root, 'docs/deploy/nginx/tsunicorn.conf'), 'utf8')
    .replaceAll('/run/tsunicorn/app.sock', sock)
    .replace('listen 80;', `listen 127.0.0.1:${port};`);
  writeFileSync(join(tmp, 'site.conf'), site);
  writeFileSync(
    join(tmp, 'nginx.conf'),
    `daemon off;\nuser root root;\nworker_processes 1;\npid ${tmp}/nginx.pid;\nerror_log ${tmp}/error.log;\n` +
      `events { worker_connections 1024; }\nhttp {\n  access_log off;\n  client_body_temp_path ${tmp};\n` +
      `  proxy_temp_path ${tmp};\n  include ${tmp}/site.conf;\n}\n`,
  );
  execFileSync(nginx, ['-t', '-c', join(tmp, 'nginx.conf')], { stdio: 'pipe' });

  const server = await startServer(['-w', '2', '-b', `unix:${sock}`, fixture('pid.mjs')], { workers: 2 });
  t.after(() => server.kill());
  await waitServing({ socketPath: sock });
  // In a process group of its own: a SIGKILLed nginx master leaves its worker running, so the group goes.
  const proxy = spawn(nginx, ['-c', join(tmp, 'nginx.conf')], { stdio: 'ignore', detached: true });
  t.after(() => {
    try {
      process.kill(-proxy.pid!, 'SIGKILL');
    } catch {}
  });
  const target = { port };
  await waitServing(target).catch((err) => {
    throw new Error(`${err.message}\n${readFileSync(join(tmp, 'error.log'), 'utf8')}`);
  });

  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  t.after(() => agent.destroy());
  const failures: string[] = [];
  const generations = new Set<string>();
  let served = 0;
  let stop = false;
  const load = Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!stop) {
        await request(target, '/?sleep=5', { agent }).then(
          (r) => {
            if (r.status !== 200) failures.push(`status ${r.status}`);
            else {
              served++;
              generations.add(String(JSON.parse(r.body).pid));
            }
          },
          (err: Error) => failures.push(err.message),
        );
      }
    }),
  );
  await waitFor(() => served > 200, 'load through nginx');
  const before = new Set(server.workers());
  server.signal('SIGHUP');
  await server.waitForLog(/Reload complete/, 30_000);
  await waitFor(() => server.workers().every((pid) => !before.has(pid)), 'the old workers to leave', 30_000);
  const after = served;
  await waitFor(() => served > after + 200, 'load on the new workers');
  stop = true;
  await load;
  assert.deepEqual(failures, [], readFileSync(join(tmp, 'error.log'), 'utf8'));
  assert.ok(
    [...before].some((pid) => generations.has(String(pid))),
    'the old workers served',
  );
  assert.ok(
    server.workers().some((pid) => generations.has(String(pid))),
    'the new workers served',
  );
});
