// What each round sends. `standard` is the side-by-side table; `concurrency` is the worker-class
// comparison (a CPU-bound, a blocking-I/O and an async-I/O handler). `settleMs` is the pause after the
// warm-up for slow handlers: the requests the warm-up left queued would otherwise count against the
// measured run.

const ECHO_BODY = JSON.stringify({
  id: 4711,
  name: 'tsunicorn',
  tags: ['pre-fork', 'http', 'node'],
  nested: { ok: true, ratio: 1.25, list: [1, 2, 3, 5, 8, 13, 21] },
  text: 'The quick brown fox jumps over the lazy dog. '.repeat(4),
});

/**
 * The offered rate of `hello-paced`: well below what a single node process serves on 2 cores (~18k), so
 * every node contender answers it and their p99s compare at the same load. Classes that serve one request
 * at a time per process (tsunicorn sync, Gunicorn sync with 64 keep-alive connections) fall behind it.
 */
const PACE_RPS = 4000;

export const SCENARIOS = [
  { name: 'hello', group: 'standard', path: '/', describe: 'GET / → 13 B, keep-alive' },
  {
    name: 'hello-close',
    group: 'standard',
    path: '/',
    headers: { Connection: 'close' },
    describe: 'GET / → 13 B, Connection: close (a new TCP connection per request)',
  },
  {
    name: 'hello-paced',
    group: 'standard',
    path: '/',
    paceRps: PACE_RPS,
    describe: `GET / offered at ${PACE_RPS.toLocaleString('en-US')} req/s, keep-alive: latency at an equal rate, not at saturation`,
  },
  { name: '64k', group: 'standard', path: '/64k', describe: 'GET /64k → 64 KiB body, keep-alive' },
  {
    name: 'echo',
    group: 'standard',
    path: '/echo',
    method: 'POST',
    body: ECHO_BODY,
    headers: { 'Content-Type': 'application/json' },
    describe: `POST /echo, ${ECHO_BODY.length} B JSON parsed and re-serialised, keep-alive`,
  },
  {
    name: 'cpu',
    group: 'concurrency',
    path: '/cpu?ms=5',
    settleMs: 1000,
    describe: 'GET /cpu?ms=5: 5 ms busy loop per request',
  },
  {
    name: 'block',
    group: 'concurrency',
    path: '/block?ms=20',
    settleMs: 1000,
    describe: 'GET /block?ms=20: the thread blocks 20 ms (Atomics.wait), like synchronous I/O',
  },
  {
    name: 'sleep',
    group: 'concurrency',
    path: '/sleep?ms=20',
    settleMs: 1000,
    describe: 'GET /sleep?ms=20: awaits a 20 ms timer, like asynchronous I/O',
  },
];

export const GROUPS = {
  standard: SCENARIOS.filter((s) => s.group === 'standard').map((s) => s.name),
  concurrency: SCENARIOS.filter((s) => s.group === 'concurrency').map((s) => s.name),
  all: SCENARIOS.map((s) => s.name),
};

/** Expands names and group names ("concurrency", "all") into scenarios, in table order. */
export function selectScenarios(names) {
  const wanted = new Set();
  for (const name of names) {
    if (GROUPS[name]) for (const n of GROUPS[name]) wanted.add(n);
    else if (SCENARIOS.some((s) => s.name === name)) wanted.add(name);
    else
      throw new Error(
        `unknown scenario "${name}"; known: ${[...Object.keys(GROUPS), ...SCENARIOS.map((s) => s.name)].join(', ')}`,
      );
  }
  return SCENARIOS.filter((s) => wanted.has(s.name));
}

export function requestOf(scenario) {
  return {
    name: scenario.name,
    method: scenario.method ?? 'GET',
    body: scenario.body,
    headers: scenario.headers ?? {},
    paceRps: scenario.paceRps,
  };
}
