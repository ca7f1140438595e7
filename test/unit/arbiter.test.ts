import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { Arbiter } from '../../src/master/arbiter.ts';
import type { ProcessOps, SpawnRequest, WorkerProcess } from '../../src/master/process-ops.ts';
import { waitFor } from '../helpers/server.ts';

/** A worker process that does only what the test tells it to. */
class FakeWorker extends EventEmitter implements WorkerProcess {
  static nextPid = 1000;
  readonly pid = FakeWorker.nextPid++;
  readonly signals: string[] = [];
  exited = false;
  constructor(readonly env: Record<string, string | undefined>) {
    super();
    queueMicrotask(() => this.emit('spawn'));
  }
  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    return true;
  }
  send(_message: unknown, _handle: unknown, _options: object, done: (err: Error | null) => void): boolean {
    done(new Error('a fake worker takes no connections'));
    return false;
  }
  boot(): void {
    this.emit('message', { type: 'booted' });
  }
  exit(code: number | null, signal: string | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.emit('exit', code, signal);
  }
  get generation(): number {
    return JSON.parse(this.env.TSUNICORN_WORKER!).generation;
  }
}

/** Fake OS: spawns fakes; workers exit when sent TERM/QUIT/KILL unless told to hang. */
function fakeOps(options: { onSpawn?: (w: FakeWorker) => void } = {}) {
  const spawned: FakeWorker[] = [];
  const ops: ProcessOps = {
    spawn(req: SpawnRequest) {
      const w = new FakeWorker(req.env);
      const kill = w.kill.bind(w);
      w.kill = (signal) => {
        kill(signal);
        setImmediate(() => w.exit(signal === 'SIGKILL' ? null : 0, signal === 'SIGKILL' ? 'SIGKILL' : null));
        return true;
      };
      spawned.push(w);
      options.onSpawn?.(w);
      return w;
    },
    now: () => Date.now(),
  };
  return { ops, spawned, live: () => spawned.filter((w) => !w.exited) };
}

function arbiter(ops: ProcessOps, workers = 2) {
  const config = resolveConfig([{ app: 'app.mjs', workers }], {});
  return new Arbiter({
    config,
    listeners: [],
    ops,
    workerEntry: 'worker.js',
    env: {},
    reloadConfig: async () => config,
  });
}

test('starts the configured number of workers and stops them all on TERM', async () => {
  const { ops, spawned, live } = fakeOps({ onSpawn: (w) => setImmediate(() => w.boot()) });
  const a = arbiter(ops, 3);
  const done = a.run();
  await waitFor(() => live().length === 3, '3 workers');
  a.enqueueSignal('SIGTERM');
  assert.equal(await done, 0);
  assert.ok(spawned.every((w) => w.signals[0] === 'SIGTERM'));
});

test('a worker that cannot load the app before any worker booted halts with exit code 4', async () => {
  const { ops, spawned } = fakeOps({ onSpawn: (w) => setImmediate(() => w.exit(4)) });
  const a = arbiter(ops, 2);
  assert.equal(await a.run(), 4);
  assert.ok(spawned.length <= 2, `spawned ${spawned.length}`);
});

test('HUP drains the old generation only after the whole new one booted', async () => {
  let bootNew = false;
  const { ops, live } = fakeOps({
    onSpawn: (w) => setImmediate(() => (w.generation === 1 || bootNew) && w.boot()),
  });
  const a = arbiter(ops, 2);
  const done = a.run();
  await waitFor(() => a.workers.filter((w) => w.state === 'ready').length === 2, 'generation 1 ready');
  const old = live();
  a.enqueueSignal('SIGHUP');
  await waitFor(() => live().length === 4, 'generation 2 spawned');
  const fresh = live().filter((w) => !old.includes(w));
  fresh[0]!.boot();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(
    old.every((w) => w.signals.length === 0),
    'no old worker drained while the new generation boots',
  );
  bootNew = true;
  fresh[1]!.boot();
  await waitFor(() => old.every((w) => w.exited), 'old generation drained');
  assert.ok(old.every((w) => w.signals[0] === 'SIGTERM'));
  a.enqueueSignal('SIGTERM');
  assert.equal(await done, 0);
});

test('HUPs during a reload are not lost: one more reload follows once it ends', async () => {
  let bootNew = false;
  const { ops, spawned } = fakeOps({
    onSpawn: (w) => setImmediate(() => (w.generation !== 2 || bootNew) && w.boot()),
  });
  const a = arbiter(ops, 2);
  const done = a.run();
  await waitFor(() => a.workers.filter((w) => w.state === 'ready').length === 2, 'generation 1 ready');
  a.enqueueSignal('SIGHUP');
  await waitFor(() => spawned.some((w) => w.generation === 2), 'generation 2 spawned');
  a.enqueueSignal('SIGHUP');
  a.enqueueSignal('SIGHUP');
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!spawned.some((w) => w.generation === 3), 'nothing more while generation 2 boots');
  bootNew = true;
  for (const w of spawned.filter((x) => x.generation === 2)) w.boot();
  await waitFor(
    () => a.workers.filter((w) => w.generation === 3 && w.state === 'ready').length === 2,
    'generation 3 serving',
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!spawned.some((w) => w.generation > 3), 'the two HUPs became one reload');
  a.enqueueSignal('SIGTERM');
  assert.equal(await done, 0);
});

test('a failed boot aborts the reload and leaves the old workers alone', async () => {
  const { ops, live } = fakeOps({
    onSpawn: (w) => setImmediate(() => (w.generation === 1 ? w.boot() : w.exit(4))),
  });
  const a = arbiter(ops, 2);
  const done = a.run();
  await waitFor(() => a.workers.filter((w) => w.state === 'ready').length === 2, 'generation 1 ready');
  const old = live();
  a.enqueueSignal('SIGHUP');
  await waitFor(
    () => live().length === 2 && live().every((w) => old.includes(w)),
    'only the old workers left',
  );
  assert.ok(old.every((w) => w.signals.length === 0));
  a.enqueueSignal('SIGTERM');
  assert.equal(await done, 0);
});

test('TTOU drains the oldest worker and never goes below one; TTIN adds one', async () => {
  const { ops, live } = fakeOps({ onSpawn: (w) => setImmediate(() => w.boot()) });
  const a = arbiter(ops, 2);
  const done = a.run();
  await waitFor(() => live().length === 2, '2 workers');
  const [oldest] = live();
  a.enqueueSignal('SIGTTOU');
  await waitFor(() => oldest!.exited, 'the oldest drained');
  a.enqueueSignal('SIGTTOU');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(live().length, 1);
  a.enqueueSignal('SIGTTIN');
  await waitFor(() => live().length === 2, 'back to 2');
  a.enqueueSignal('SIGINT');
  assert.equal(await done, 0);
});

test('a crashed worker is replaced in the same slot', async () => {
  const { ops, live } = fakeOps({ onSpawn: (w) => setImmediate(() => w.boot()) });
  const a = arbiter(ops, 2);
  const done = a.run();
  await waitFor(() => a.workers.filter((w) => w.state === 'ready').length === 2, 'ready');
  const victim = live()[0]!;
  const slot = victim.env.TSUNICORN_WORKER_ID;
  victim.exit(null, 'SIGKILL');
  await waitFor(() => live().length === 2 && !live().includes(victim), 'a replacement');
  assert.ok(live().some((w) => w.env.TSUNICORN_WORKER_ID === slot));
  a.enqueueSignal('SIGTERM');
  assert.equal(await done, 0);
});

test('workers killed after booting are replaced; once the app breaks, failed boots back off and halt with 3', async () => {
  let broken = false;
  const { ops, spawned, live } = fakeOps({
    onSpawn: (w) => setImmediate(() => (broken ? w.exit(4) : w.boot())),
  });
  const config = resolveConfig([{ app: 'app.mjs', workers: 2, maxBootFailures: 5 }], {});
  const a = new Arbiter({
    config,
    listeners: [],
    ops,
    workerEntry: 'worker.js',
    env: {},
    reloadConfig: async () => config,
  });
  const done = a.run();
  await waitFor(() => a.workers.filter((w) => w.state === 'ready').length === 2, 'ready');
  broken = true;
  for (const w of live()) w.exit(null, 'SIGKILL');
  assert.equal(await done, 3);
  // The kills are ordinary crashes, not failed boots: 2 first boots, 2 replacements at once, then one at a
  // time until the fifth failed boot.
  assert.equal(spawned.length, 7);
});
