#!/usr/bin/env node
// `npm run bench`: tsunicorn side by side with its peers on loopback. See docs/performance.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONTENDERS, REFERENCE_ID } from './lib/contenders.mjs';
import { drive, findAutocannon, findWrk, removeScripts } from './lib/load.mjs';
import {
  connectionSplit,
  killAllSync,
  processTree,
  sampleRss,
  spawnGroup,
  stopGroup,
  waitUntilServing,
} from './lib/procs.mjs';
import { renderSvg, renderTables, summarise } from './lib/report.mjs';
import { GROUPS, requestOf, SCENARIOS, selectScenarios } from './lib/scenarios.mjs';

// Loopback only: this harness floods whatever it points at.
const HOST = '127.0.0.1';
const benchDir = dirname(fileURLToPath(import.meta.url));
const repo = dirname(benchDir);

const USAGE = `usage: npm run bench -- [options]

  --scenario NAME     hello, hello-close, hello-paced, 64k, echo, cpu, block, sleep, or a group:
                      standard (default), concurrency, all. Repeatable or comma-separated.
  --contender SUBSTR  only contenders whose id or label contains SUBSTR (repeatable or comma-separated);
                      node cluster (rr) always runs, as the reference for the ratio column
  --duration S        seconds measured per round and scenario (default 5)
  --warmup S          seconds of discarded load before each measurement (default 1)
  --rounds N          rounds, interleaved across contenders; the table shows medians (default 3)
  --connections C     concurrent connections (default 64)
  --workers N         worker processes for every contender (default: CPU count, ${availableParallelism()} here)
  --threads N         threads per worker for tsunicorn -k threads (default 4)
  --load TOOL         wrk or autocannon (default: wrk when installed)
  --out NAME          results file name under bench/results/ (default: the scenario group)
  --quick             smoke run: 1 round of 1 s
  --list              list contenders and scenarios, then exit
  -h, --help          this text`;

function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', multiple: true },
      contender: { type: 'string', multiple: true },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      workers: { type: 'string' },
      threads: { type: 'string' },
      load: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const split = (list) =>
    (list ?? [])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
  const positiveInt = (name, raw, fallback) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  if (values.load !== undefined && values.load !== 'wrk' && values.load !== 'autocannon') {
    throw new Error(`--load must be wrk or autocannon, got "${values.load}"`);
  }
  const scenarioNames = split(values.scenario);
  return {
    help: values.help,
    list: values.list,
    quick: values.quick,
    scenarioNames: scenarioNames.length > 0 ? scenarioNames : ['standard'],
    contenderFilter: split(values.contender).map((v) => v.toLowerCase()),
    duration: positiveInt('duration', values.duration, values.quick ? 1 : 5),
    warmup: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, 1),
    rounds: positiveInt('rounds', values.rounds, values.quick ? 1 : 3),
    connections: positiveInt('connections', values.connections, 64),
    workers: positiveInt('workers', values.workers, availableParallelism()),
    threads: positiveInt('threads', values.threads, 4),
    load: values.load,
    out: values.out,
  };
}

/** Installs bench/'s own dependencies (pm2, deno, bun, autocannon) once; failure only costs contenders. */
function ensureBenchDeps() {
  if (existsSync(join(benchDir, 'node_modules', '.package-lock.json'))) return;
  console.log(
    'Installing the bench dependencies (npm ci in bench/; deno and bun are large, this takes a minute)…',
  );
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: benchDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60 * 1000,
  });
  if (r.status !== 0) console.log('note: npm ci in bench/ failed; contenders that need it will be skipped.');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function machine(loadTool, loadAverageAtStart) {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    availableParallelism: availableParallelism(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.versions.node,
    loadTool,
    loadAverageAtStart,
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

function tail(file, lines = 4) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' / ');
  } catch {
    return '';
  }
}

function fmtDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

/** The running wrk/autocannon, killed with the servers on SIGINT. */
let loadChild = null;
/** Server logs; kept only when a contender failed, to show why. */
let logDir = null;

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * A contender's environment without NODE_EXTRA_CA_CERTS: Node 20 parses that bundle as each process starts
 * (70 ms per process on a machine that names the system bundle there), a cost of the machine that every
 * Node-based contender would pay once per process, in startup and in nothing else.
 */
function contenderEnv(env = process.env) {
  const { NODE_EXTRA_CA_CERTS: _, ...rest } = env;
  return rest;
}

/**
 * Starts a contender on a fresh port and waits for its first 200. Two tries: a start that fails once can
 * be a hiccup (a rebuild of dist/ under way), one that fails twice is reported.
 */
async function startContender(c, ctx, logFile) {
  let reason = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const port = await freePort();
    const spec = c.def.command(ctx, port);
    const t0 = performance.now();
    const handle = spawnGroup(spec.command, spec.args, {
      cwd: benchDir,
      env: contenderEnv(spec.env),
      logFile,
    });
    const ready = await waitUntilServing(handle, HOST, port, 20_000);
    if (ready.ok) return { ok: true, handle, port, spec, readyMs: performance.now() - t0 };
    reason = ready.reason;
    await stopGroup(handle);
    for (const path of spec.cleanup ?? []) rmSync(path, { recursive: true, force: true });
  }
  return { ok: false, reason };
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (opts.list) {
    console.log('Contenders:');
    for (const c of CONTENDERS)
      console.log(`  ${c.id.padEnd(24)} ${c.label}${c.concurrency ? '  (also in concurrency)' : ''}`);
    console.log('Scenarios:');
    for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(24)} [${s.group}] ${s.describe}`);
    console.log(`Groups: ${Object.keys(GROUPS).join(', ')}`);
    return 0;
  }
  const scenarios = selectScenarios(opts.scenarioNames);

  ensureBenchDeps();

  let tool = null;
  if (opts.load !== 'autocannon') tool = findWrk();
  if (!tool && opts.load === 'wrk')
    throw new Error('--load wrk: wrk is not installed (apt-get install -y wrk)');
  if (!tool) {
    tool = findAutocannon(benchDir);
    if (!tool)
      throw new Error('no load generator: install wrk (apt-get install -y wrk) or run npm ci in bench/');
    console.log(
      `warning: ${opts.load === 'autocannon' ? 'using autocannon (--load autocannon)' : 'wrk is not installed, using autocannon'}. ` +
        'On a 2-core machine autocannon (node) saturates a core\n' +
        '         before most servers do, so these numbers measure it as much as the servers: apt-get install -y wrk',
    );
  }

  const ctx = {
    repo,
    benchDir,
    appsDir: join(benchDir, 'apps'),
    tsunicornMain: join(repo, 'dist', 'cli', 'main.js'),
    host: HOST,
    workers: opts.workers,
    threads: opts.threads,
  };
  const loadAtStart = Number(loadavg()[0].toFixed(2));
  if (loadAtStart > 0.5) {
    console.log(
      `note: the machine is already busy (1-minute load ${loadavg()[0].toFixed(2)}); expect noisy numbers.`,
    );
  }
  if (process.env.NODE_EXTRA_CA_CERTS)
    console.log(
      'note: contenders run without NODE_EXTRA_CA_CERTS (it slows the start of every Node 20 process).',
    );
  logDir = mkdtempSync(join(tmpdir(), 'tsunicorn-bench-'));

  const wanted = CONTENDERS.filter(
    (c) =>
      c.reference ||
      opts.contenderFilter.length === 0 ||
      opts.contenderFilter.some((f) => c.id.includes(f) || c.label.toLowerCase().includes(f)),
  );
  const contenders = wanted.map((c) => ({
    def: c,
    id: c.id,
    label: c.label,
    family: c.family,
    readyMs: [],
    skipped: null,
    command: null,
  }));
  for (const c of contenders) {
    c.skipped = c.def.check?.(ctx) ?? null;
    if (c.skipped) console.log(`skip: ${c.label}: ${c.skipped}`);
  }
  // The concurrency fixtures block or spin, which the peers' apps don't implement: worker classes plus the reference.
  const scenariosFor = (c) => scenarios.filter((s) => s.group !== 'concurrency' || c.def.concurrency);

  const perCell = opts.warmup + opts.duration;
  const cellsPerRound = contenders.filter((c) => !c.skipped).reduce((n, c) => n + scenariosFor(c).length, 0);
  let totalCells = cellsPerRound * opts.rounds;
  console.log(
    `tsunicorn bench: ${contenders.filter((c) => !c.skipped).length} contenders × ${scenarios.length} scenarios × ${opts.rounds} rounds, ` +
      `${opts.duration} s each (+${opts.warmup} s warm-up), ${opts.connections} connections, ${opts.workers} workers, ${tool.name}; ` +
      `about ${fmtDuration(totalCells * perCell + contenders.length * opts.rounds * 2)}`,
  );

  const samples = [];
  const interactive = process.stdout.isTTY;
  let done = 0;
  const runStart = Date.now();

  for (let round = 1; round <= opts.rounds; round++) {
    // Rotating the start position spreads thermal and background drift over every contender.
    const shift = (round - 1) % contenders.length;
    const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
    for (const c of order) {
      if (c.skipped) continue;
      const logFile = join(logDir, `${c.id}.log`);
      const start = await startContender(c, ctx, logFile);
      if (!start.ok) {
        c.skipped = `did not start: ${start.reason}${tail(logFile) ? ` — ${tail(logFile)}` : ''}`;
        console.log(`skip: ${c.label}: ${c.skipped}`);
        totalCells -= scenariosFor(c).length * (opts.rounds - round + 1);
        continue;
      }
      const { handle, port, spec } = start;
      c.command ??= [
        relative(repo, spec.command) || spec.command,
        ...spec.args.map((a) => (a.startsWith(repo) ? relative(repo, a) : a)),
      ].join(' ');
      c.readyMs.push(start.readyMs);
      // Let the other workers finish booting: the first answer proves only one of them.
      await delay(300);
      for (const scenario of scenariosFor(c)) {
        done++;
        const prefix = `[${String(done).padStart(String(totalCells).length)}/${totalCells}] round ${round}/${opts.rounds} · ${c.label} · ${scenario.name}`;
        if (interactive) process.stdout.write(`${prefix} …`);
        const url = `http://${HOST}:${port}${scenario.path}`;
        const load = {
          url,
          request: requestOf(scenario),
          connections: opts.connections,
          threads: 2,
          track: (child) => (loadChild = child),
        };
        const sample = { round, contender: c.id, scenario: scenario.name };
        try {
          if (opts.warmup > 0) {
            await drive(tool, { ...load, seconds: opts.warmup });
            await delay(scenario.settleMs ?? 200);
          }
          const stopSampling = sampleRss(handle.pid);
          let split = [];
          // With Connection: close the split is only whoever holds a connection at that instant.
          const keepAlive = scenario.headers?.Connection !== 'close';
          const splitTimer = setTimeout(
            () => {
              if (keepAlive) split = connectionSplit(port);
            },
            (opts.duration * 1000) / 2,
          );
          const r = await drive(tool, { ...load, seconds: opts.duration });
          clearTimeout(splitTimer);
          Object.assign(sample, r, { rss: stopSampling(), split });
          const exited = processTree(handle.pid).length === 0;
          if (exited) throw new Error(`server exited during the run — ${tail(logFile)}`);
        } catch (error) {
          sample.failed = error.message;
        }
        samples.push(sample);
        const summary = sample.failed
          ? `failed: ${sample.failed}`
          : `${int.format(sample.rps)} req/s, p99 ${sample.p99Ms.toFixed(2)} ms${sample.errors ? `, ${int.format(sample.errors)} errors` : ''}` +
            ` (${done < totalCells ? `about ${fmtDuration(((Date.now() - runStart) / 1000 / done) * (totalCells - done))} left` : 'done'})`;
        console.log(interactive ? ` ${summary}` : `${prefix} … ${summary}`);
        if (sample.failed && processTree(handle.pid).length === 0) break;
      }
      await stopGroup(handle);
      for (const path of spec.cleanup ?? []) rmSync(path, { recursive: true, force: true });
    }
  }

  const activeContenders = contenders.filter((c) => samples.some((s) => s.contender === c.id));
  const result = {
    machine: machine(`${tool.name} ${tool.version}`, loadAtStart),
    settings: {
      duration: opts.duration,
      warmup: opts.warmup,
      rounds: opts.rounds,
      connections: opts.connections,
      workers: opts.workers,
      threads: opts.threads,
      loadTool: tool.name,
      reference: REFERENCE_ID,
    },
    scenarios: scenarios.map(({ name, group, path, method, paceRps, describe }) => ({
      name,
      group,
      path,
      method: method ?? 'GET',
      paceRps,
      describe,
    })),
    contenders: contenders.map(({ id, label, family, command, readyMs, skipped }) => ({
      id,
      label,
      family,
      command,
      readyMs,
      skipped,
    })),
    summary: summarise(samples, activeContenders, scenarios, REFERENCE_ID),
    samples,
  };

  const tables = renderTables(result);
  const m = result.machine;
  console.log(
    `\nResults: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, ${result.machine.loadTool}; ` +
      `median of ${opts.rounds} round(s) of ${opts.duration} s, ${opts.connections} connections, ${opts.workers} workers\n`,
  );
  console.log(tables);

  const isGroup = (name) =>
    GROUPS[name].length === scenarios.length && GROUPS[name].every((n, i) => scenarios[i].name === n);
  const base = opts.out ?? (Object.keys(GROUPS).find(isGroup) || scenarios.map((s) => s.name).join('+'));
  const name = opts.quick && !opts.out ? `${base}-quick` : base;
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(resultsDir, `${name}.svg`), renderSvg(result));
  writeFileSync(join(resultsDir, `${name}.md`), `${tables}\n`);
  const troubled =
    contenders.some((c) => c.skipped?.startsWith('did not start')) || samples.some((s) => s.failed);
  if (troubled) console.log(`Server logs: ${logDir}`);
  else rmSync(logDir, { recursive: true, force: true });
  console.log(`Wrote bench/results/${name}.json, .svg and .md`);
  return 0;
}

// SIGINT/SIGTERM and every exit path take the servers and the load generator down with the harness.
let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  loadChild?.kill('SIGKILL');
  killAllSync();
  removeScripts();
  if (code !== 0 && logDir) rmSync(logDir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => {
  console.log('\ninterrupted: stopping servers');
  shutdown(130);
});
process.on('SIGTERM', () => shutdown(143));
process.on('uncaughtException', (error) => {
  console.error(error);
  shutdown(1);
});
process.on('exit', () => {
  killAllSync();
  removeScripts();
});

main().then(
  (code) => shutdown(code),
  (error) => {
    console.error(`bench: ${error.message}`);
    shutdown(1);
  },
);
