/**
 * `tsunicorn top`: a live view of a running master, refreshed every second from the control socket's
 * `stats`. Plain ANSI on the alternate screen, so it works over SSH and in tmux; `q` or Ctrl-C quits.
 */
import type { StatsView } from '../control/protocol.js';
import { ExitCode } from '../lifecycle/exit-codes.js';
import { connectControl, controlSocketPath } from './control-target.js';
import { parseCtlArgs } from './ctl.js';
import { masterLine, workerTable } from './stats-table.js';

const REFRESH_MS = 1000;
const HISTORY = 40;
const bars = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  const max = Math.max(...values, 0);
  if (max === 0) return bars[0]!.repeat(values.length);
  return values
    .map((v) => bars[Math.min(bars.length - 1, Math.floor((v / max) * (bars.length - 1)))])
    .join('');
}

export async function runTop(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const { values } = parseCtlArgs(argv);
  if (values.help) {
    process.stdout.write('usage: tsunicorn top [--socket PATH | --pid PID|PIDFILE]\n\nq or Ctrl-C quits.\n');
    return ExitCode.OK;
  }
  const path = controlSocketPath(values, env);
  const client = await connectControl(path);
  const out = process.stdout;
  const tty = Boolean(process.stdin.isTTY);
  let previous: { at: number; requests: Map<number, number> } | undefined;
  const rateHistory: number[] = [];
  const delayHistory: number[] = [];

  const draw = async () => {
    const response = await client.request('stats');
    if (!response.ok) throw new Error(response.error);
    const stats = response.result as StatsView;
    const now = Date.now();
    const requests = new Map(stats.workers.map((w) => [w.pid, w.requests]));
    const rates = new Map<number, number>();
    if (previous) {
      const seconds = (now - previous.at) / 1000;
      for (const [pid, n] of requests)
        rates.set(pid, Math.max(0, n - (previous.requests.get(pid) ?? n)) / seconds);
    }
    previous = { at: now, requests };
    const total = [...rates.values()].reduce((a, b) => a + b, 0);
    const delays = stats.workers.map((w) => w.eventLoopDelayMs);
    rateHistory.push(total);
    delayHistory.push(delays.length ? Math.max(...delays) : 0);
    if (rateHistory.length > HISTORY) rateHistory.shift();
    if (delayHistory.length > HISTORY) delayHistory.shift();
    const lines = [
      `tsunicorn top — ${new Date(now).toISOString().slice(11, 19)}   (q quits)`,
      masterLine(stats),
      '',
      `req/s  ${total.toFixed(0).padStart(7)}  ${sparkline(rateHistory)}`,
      `loop ms${delayHistory.at(-1)!.toFixed(1).padStart(7)}  ${sparkline(delayHistory)}  (slowest worker's event-loop delay)`,
      '',
      ...workerTable(stats.workers, rates),
    ];
    // Home, then each line cleared to its end, then the rest of the screen: no flicker from a full clear.
    out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
  };

  return await new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (code: number, message?: string) => {
      clearTimeout(timer);
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
      out.write('\x1b[?25h\x1b[?1049l');
      if (message) process.stderr.write(`tsunicorn top: ${message}\n`);
      client.close();
      resolve(code);
    };
    if (tty) process.stdin.setRawMode(true);
    process.stdin.on('data', (key: Buffer) => {
      const k = key.toString();
      if (k === 'q' || k === 'Q' || k === '\x03') finish(ExitCode.OK);
    });
    process.once('SIGINT', () => finish(ExitCode.OK));
    // Alternate screen, hidden cursor: the shell's screen comes back on quit.
    out.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
    const tick = () => {
      draw().then(
        () => {
          timer = setTimeout(tick, REFRESH_MS);
        },
        (err: Error) => finish(ExitCode.ERROR, `the master went away: ${err.message}`),
      );
    };
    tick();
  });
}
