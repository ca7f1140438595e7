// Process plumbing: every server starts in its own process group so that one kill reaches the master,
// its workers and anything they spawned; a /proc scan of the tree catches children that left the group.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

/** Live process groups, so that SIGINT and a crash of the harness still clean up. */
const live = new Set();

export function spawnGroup(command, args, { cwd, env, logFile } = {}) {
  const fd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(command, args, {
    cwd,
    env: env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  if (typeof fd === 'number') closeSync(fd);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  if (child.pid) live.add(child.pid);
  exited.then(() => live.delete(child.pid));
  return { child, pid: child.pid, exited };
}

function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields resume after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** The pid and all its descendants, root first. */
export function processTree(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ppid = parentOf(pid);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const tree = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift();
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Resident set size in bytes, or 0 once the process is gone. */
export function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a server's tree while it is under load; keeps each pid's peak. */
export function sampleRss(root, everyMs = 500) {
  const peak = new Map();
  const take = () => {
    for (const pid of processTree(root)) {
      const rss = rssOf(pid);
      if (rss > (peak.get(pid) ?? 0)) peak.set(pid, rss);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    const rootRss = peak.get(root) ?? 0;
    const workers = [...peak].filter(([pid, rss]) => pid !== root && rss > 0).map(([, rss]) => rss);
    return { total: rootRss + workers.reduce((a, b) => a + b, 0), root: rootRss, workers };
  };
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {}
}

function signalPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {}
}

/** TERM the group, give it `graceMs`, then KILL the group and any stray descendant by pid. */
export async function stopGroup(handle, graceMs = 5000) {
  const tree = processTree(handle.pid);
  signalGroup(handle.pid, 'SIGTERM');
  const done = await Promise.race([handle.exited.then(() => true), delay(graceMs).then(() => false)]);
  if (!done) signalGroup(handle.pid, 'SIGKILL');
  // Workers that outlive their master (or moved to a group of their own) are killed one by one.
  await delay(100);
  for (const pid of tree) if (parentOf(pid) !== -1) signalPid(pid, 'SIGKILL');
  signalGroup(handle.pid, 'SIGKILL');
  live.delete(handle.pid);
}

/** Synchronous last resort for exit paths: KILL every group still alive. */
export function killAllSync() {
  for (const pid of live) {
    for (const member of processTree(pid)) signalPid(member, 'SIGKILL');
    signalGroup(pid, 'SIGKILL');
  }
  live.clear();
}

/** Resolves with the status of one GET, or rejects on a socket error / timeout. */
export function probe(host, port, path = '/', timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until the server answers 200, the process exits, or the deadline passes. */
export async function waitUntilServing(handle, host, port, timeoutMs) {
  const started = Date.now();
  let exit = null;
  handle.exited.then((status) => {
    exit = status;
  });
  while (Date.now() - started < timeoutMs) {
    if (exit) return { ok: false, reason: describeExit(exit) };
    try {
      if ((await probe(host, port)) === 200) return { ok: true };
    } catch {}
    await delay(25);
  }
  return { ok: false, reason: `no answer within ${timeoutMs} ms` };
}

export function describeExit({ code, signal, error }) {
  if (error) return error.message;
  return signal ? `exited on ${signal}` : `exited with code ${code}`;
}

/**
 * How the established connections on `port` are spread over the server's processes, largest first
 * (e.g. [39, 25]): workers that accept from one shared queue can split keep-alive connections unevenly,
 * which caps throughput at the busiest worker.
 */
export function connectionSplit(port) {
  const r = spawnSync('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const perPid = new Map();
  for (const line of r.stdout.split('\n')) {
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (pid) perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
  }
  return [...perPid.values()].sort((a, b) => b - a);
}
