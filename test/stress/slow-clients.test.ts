/** S1–S3: slowloris, slow bodies and slow readers, with slowhttptest, while a normal client keeps sampling. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fixture, request, type Server, startServer, waitServing } from '../helpers/server.ts';
import { requireTool } from '../helpers/tools.ts';
import { figure } from './wrk.ts';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Runs slowhttptest for `seconds` while sampling `/` once a second; returns the failed samples. */
async function underAttack(server: Server, attack: string[], seconds: number) {
  requireTool('slowhttptest', 'slowhttptest');
  const child = spawn(
    'slowhttptest',
    [...attack, '-l', String(seconds), '-u', `http://127.0.0.1:${server.port}/`],
    {
      stdio: 'ignore',
    },
  );
  const failures: string[] = [];
  let samples = 0;
  let maxRss = 0;
  const end = Date.now() + seconds * 1000;
  await new Promise((r) => setTimeout(r, 2000));
  while (Date.now() < end) {
    samples++;
    const r = await request({ port: server.port }, '/', { timeoutMs: 3000 }).catch(
      (err: Error) => err.message,
    );
    if (typeof r === 'string') failures.push(r);
    else if (r.status !== 200) failures.push(`status ${r.status}`);
    for (const pid of server.workers()) maxRss = Math.max(maxRss, rssMiB(pid));
    await new Promise((res) => setTimeout(res, 1000));
  }
  child.kill('SIGKILL');
  return { samples, failures, maxRss };
}

describe('slow clients against 2 async workers', () => {
  test('S1: slowloris with 1000 connections: the service answers in every sample', async (t) => {
    const server = await startServer(
      ['-w', '2', '--header-timeout', '5', '-b', '127.0.0.1:0', fixture('stress.mjs')],
      {
        workers: 2,
      },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const r = await underAttack(server, ['-H', '-c', '1000', '-r', '500', '-i', '10'], 30);
    figure('S1 slowloris', {
      samples: r.samples,
      failed: r.failures.length,
      maxWorkerRssMiB: r.maxRss.toFixed(0),
    });
    assert.deepEqual(r.failures, []);
  });

  test('S2: slow request bodies: the service answers in every sample', async (t) => {
    const server = await startServer(
      ['-w', '2', '--request-timeout', '10', '-b', '127.0.0.1:0', fixture('stress.mjs')],
      {
        workers: 2,
      },
    );
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    const r = await underAttack(server, ['-B', '-c', '500', '-r', '250', '-i', '5', '-s', '65536'], 20);
    figure('S2 slow-body', {
      samples: r.samples,
      failed: r.failures.length,
      maxWorkerRssMiB: r.maxRss.toFixed(0),
    });
    assert.deepEqual(r.failures, []);
  });

  test('S3: slow readers of 1 MiB responses: memory stays bounded', async (t) => {
    const server = await startServer(['-w', '2', '-b', '127.0.0.1:0', fixture('stress.mjs')], { workers: 2 });
    t.after(() => server.kill());
    await waitServing({ port: server.port });
    requireTool('slowhttptest', 'slowhttptest');
    const child = spawn(
      'slowhttptest',
      [
        '-X',
        '-c',
        '200',
        '-r',
        '100',
        '-w',
        '512',
        '-y',
        '1024',
        '-n',
        '5',
        '-z',
        '32',
        '-k',
        '3',
        '-l',
        '20',
        '-u',
        `http://127.0.0.1:${server.port}/big`,
      ],
      { stdio: 'ignore' },
    );
    t.after(() => child.kill('SIGKILL'));
    let maxRss = 0;
    const failures: string[] = [];
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      for (const pid of server.workers()) maxRss = Math.max(maxRss, rssMiB(pid));
      const r = await request({ port: server.port }, '/', { timeoutMs: 3000 }).catch(
        (err: Error) => err.message,
      );
      if (typeof r === 'string') failures.push(r);
    }
    figure('S3 slow-reader', {
      connections: 200,
      responseMiB: 1,
      maxWorkerRssMiB: maxRss.toFixed(0),
      failed: failures.length,
    });
    assert.deepEqual(failures, []);
    // 200 slow readers of 1 MiB each would be 200 MiB buffered if writes ignored back-pressure.
    assert.ok(maxRss < 250, `worker RSS reached ${maxRss.toFixed(0)} MiB`);
  });
});
