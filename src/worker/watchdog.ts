/**
 * --timeout-report: where was a hung worker stuck? Node's signal-triggered report does not fire while the
 * event loop is blocked, so a thread of its own watches the main loop's pulse and, shortly before the master's
 * timeout, pauses the main thread through the inspector and writes its JavaScript stack to a file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { type Debugger, Session } from 'node:inspector';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

interface WatchdogData {
  readonly pulse: SharedArrayBuffer;
  readonly dir: string;
  readonly pid: number;
  /** Milliseconds of main-loop silence after which the stack is captured. */
  readonly afterMs: number;
}

const PULSE_MS = 250;

/** Starts the watchdog thread; the main loop then records a pulse four times a second. */
export function startWatchdog(dir: string, timeoutSeconds: number): void {
  const pulse = new SharedArrayBuffer(8);
  const beat = new Float64Array(pulse);
  beat[0] = Date.now();
  setInterval(() => {
    beat[0] = Date.now();
  }, PULSE_MS).unref();
  // Capture well before the master's SIGABRT (it fires at the timeout, checked once a second).
  const afterMs = Math.max(PULSE_MS * 2, timeoutSeconds * 1000 - 1500);
  const data: WatchdogData = { pulse, dir, pid: process.pid, afterMs };
  new Worker(new URL(import.meta.url), { workerData: data }).unref();
}

function formatFrames(frames: readonly Debugger.CallFrame[], urls: ReadonlyMap<string, string>): string {
  const at = (f: Debugger.CallFrame) =>
    `${urls.get(f.location.scriptId) || '<internal>'}:${f.location.lineNumber + 1}:${(f.location.columnNumber ?? 0) + 1}`;
  return frames.map((f) => `    at ${f.functionName || '<anonymous>'} (${at(f)})`).join('\n');
}

function watch({ pulse, dir, pid, afterMs }: WatchdogData): void {
  const beat = new Float64Array(pulse);
  let reportedFor = 0;
  const check = () => {
    const last = beat[0]!;
    if (Date.now() - last < afterMs || reportedFor === last) return;
    reportedFor = last;
    const session = new Session();
    session.connectToMainThread();
    const file = join(dir, `tsunicorn-timeout-${pid}-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`);
    const write = (body: string) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, `Worker (pid:${pid}) main thread silent for ${Date.now() - last} ms\n${body}\n`);
    };
    // A thread parked in native code (Atomics.wait, synchronous I/O) does not answer the inspector: say so
    // rather than write nothing.
    const unanswered = setTimeout(
      () =>
        write(
          'The main thread did not answer the inspector: it is blocked in native code (e.g. Atomics.wait or synchronous I/O).',
        ),
      500,
    );
    const urls = new Map<string, string>();
    session.on('Debugger.scriptParsed', (message) => urls.set(message.params.scriptId, message.params.url));
    session.once('Debugger.paused', (message) => {
      clearTimeout(unanswered);
      write(`JavaScript stack of the main thread:\n${formatFrames(message.params.callFrames, urls)}`);
      session.post('Debugger.resume');
    });
    session.post('Debugger.enable', () => session.post('Debugger.pause'));
  };
  setInterval(check, PULSE_MS);
  parentPort?.on('close', () => process.exit(0));
}

if (!isMainThread && workerData && (workerData as WatchdogData).pulse) watch(workerData as WatchdogData);
