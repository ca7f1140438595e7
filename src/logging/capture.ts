import { writeErrorLog } from './logger.js';

/**
 * `--capture-output`: the app's stdout and stderr go to the error log file. Node cannot dup2() a descriptor,
 * so the streams' write methods are replaced instead; output is cut at line ends, so a captured line never
 * splits around another process's line in the shared file.
 */
export function captureOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    let partial = '';
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const end = (partial + text).lastIndexOf('\n');
      if (end === -1) partial += text;
      else {
        const all = partial + text;
        writeErrorLog(all.slice(0, end + 1));
        partial = all.slice(end + 1);
      }
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
    process.on('exit', () => {
      if (partial) writeErrorLog(`${partial}\n`);
    });
  }
}
