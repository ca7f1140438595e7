// The servers under test. Each one either returns the command that starts it on `port`, or says why it
// is skipped; optional peers that cannot be had on this machine are a note, never a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function onPath(command) {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function benchBin(ctx, name) {
  const bin = join(ctx.benchDir, 'node_modules', '.bin', name);
  return existsSync(bin) ? bin : null;
}

/** SO_REUSEPORT in net.Server#listen landed in Node 23.1.0 and was backported to 22.12.0. */
export function nodeHasReusePort(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

function nodeEnv(ctx, port, extra = {}) {
  return {
    ...process.env,
    BENCH_HOST: ctx.host,
    BENCH_PORT: String(port),
    BENCH_WORKERS: String(ctx.workers),
    ...extra,
  };
}

function tsunicorn(id, label, { workerClass, app, concurrency = false }) {
  return {
    id,
    label,
    family: 'tsunicorn',
    concurrency,
    check(ctx) {
      if (!existsSync(ctx.tsunicornMain))
        return `${ctx.tsunicornMain} is missing: run \`npm ci\` (or \`npm run build\`) at the repository root`;
      return null;
    },
    command(ctx, port) {
      const args = [
        ctx.tsunicornMain,
        '-w',
        String(ctx.workers),
        '-b',
        `${ctx.host}:${port}`,
        '-k',
        workerClass,
      ];
      if (workerClass === 'threads') args.push('--threads', String(ctx.threads));
      args.push(join(ctx.appsDir, app));
      return { command: process.execPath, args, env: { ...process.env, BENCH_HOST: ctx.host } };
    },
  };
}

export const CONTENDERS = [
  tsunicorn('tsunicorn-async', 'tsunicorn async (listener)', {
    workerClass: 'async',
    app: 'listener.mjs',
    concurrency: true,
  }),
  tsunicorn('tsunicorn-async-fetch', 'tsunicorn async (fetch)', { workerClass: 'async', app: 'fetch.mjs' }),
  tsunicorn('tsunicorn-sync', 'tsunicorn sync', {
    workerClass: 'sync',
    app: 'listener.mjs',
    concurrency: true,
  }),
  tsunicorn('tsunicorn-threads', 'tsunicorn threads', {
    workerClass: 'threads',
    app: 'listener.mjs',
    concurrency: true,
  }),
  {
    id: 'node-single',
    label: 'node single process',
    family: 'node',
    command: (ctx, port) => ({
      command: process.execPath,
      args: [join(ctx.appsDir, 'node-single.mjs')],
      env: nodeEnv(ctx, port),
    }),
  },
  {
    id: 'node-cluster-rr',
    label: 'node cluster (rr)',
    family: 'node',
    reference: true,
    concurrency: true,
    command: (ctx, port) => ({
      command: process.execPath,
      args: [join(ctx.appsDir, 'node-cluster.mjs')],
      env: nodeEnv(ctx, port, { NODE_CLUSTER_SCHED_POLICY: 'rr' }),
    }),
  },
  {
    id: 'node-cluster-none',
    label: 'node cluster (shared handle)',
    family: 'node',
    command: (ctx, port) => ({
      command: process.execPath,
      args: [join(ctx.appsDir, 'node-cluster.mjs')],
      env: nodeEnv(ctx, port, { NODE_CLUSTER_SCHED_POLICY: 'none' }),
    }),
  },
  {
    id: 'node-reuseport',
    label: 'node reusePort',
    family: 'node',
    check: () =>
      nodeHasReusePort()
        ? null
        : `Node ${process.versions.node} has no reusePort option (needs >= 22.12 or >= 23.1)`,
    command: (ctx, port) => ({
      command: process.execPath,
      args: [join(ctx.appsDir, 'node-reuseport.mjs')],
      env: nodeEnv(ctx, port),
    }),
  },
  {
    id: 'pm2',
    label: 'PM2 cluster',
    family: 'peer',
    check: (ctx) =>
      benchBin(ctx, 'pm2-runtime') ? null : 'pm2-runtime is not installed (npm ci in bench/ failed?)',
    command(ctx, port) {
      // A private PM2_HOME keeps the run off the user's own PM2 daemon and dump file.
      const home = mkdtempSync(join(tmpdir(), 'tsunicorn-bench-pm2-'));
      return {
        command: benchBin(ctx, 'pm2-runtime'),
        args: ['start', join(ctx.appsDir, 'pm2-app.cjs'), '-i', String(ctx.workers)],
        env: nodeEnv(ctx, port, { PM2_HOME: home }),
        cleanup: [home],
      };
    },
  },
  {
    id: 'gunicorn',
    label: 'Gunicorn sync (Python)',
    family: 'peer',
    check: () => (onPath('gunicorn') ? null : 'gunicorn is not installed (apt-get install -y gunicorn)'),
    command: (ctx, port) => ({
      command: onPath('gunicorn'),
      args: [
        '-w',
        String(ctx.workers),
        '-b',
        `${ctx.host}:${port}`,
        '--chdir',
        ctx.appsDir,
        'wsgi_hello:app',
      ],
      env: process.env,
    }),
  },
  {
    id: 'deno',
    label: 'deno serve --parallel',
    family: 'peer',
    check: (ctx) =>
      benchBin(ctx, 'deno') ? null : 'deno is not installed (its npm package did not install here)',
    command: (ctx, port) => ({
      command: benchBin(ctx, 'deno'),
      args: [
        'serve',
        '--parallel',
        '--host',
        ctx.host,
        '--port',
        String(port),
        join(ctx.appsDir, 'fetch.mjs'),
      ],
      env: { ...process.env, DENO_JOBS: String(ctx.workers), DENO_NO_UPDATE_CHECK: '1' },
    }),
  },
  {
    id: 'bun',
    label: 'Bun reusePort',
    family: 'peer',
    check: (ctx) =>
      benchBin(ctx, 'bun') ? null : 'bun is not installed (its npm package did not install here)',
    command: (ctx, port) => ({
      command: benchBin(ctx, 'bun'),
      args: [join(ctx.appsDir, 'bun-reuseport.mjs')],
      env: nodeEnv(ctx, port),
    }),
  },
];

export const REFERENCE_ID = CONTENDERS.find((c) => c.reference).id;
