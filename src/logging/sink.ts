/**
 * Where log lines go: a file opened in append mode, or the process's stdout/stderr. Master and workers write
 * to the same files and pipes, so every write(2) carries whole lines: with O_APPEND a write lands in one piece,
 * and on a pipe a write of at most PIPE_BUF bytes is atomic. Lines never interleave mid-way.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** POSIX guarantees atomic pipe writes up to PIPE_BUF; Linux's is 4096. */
const PIPE_BUF = 4096;

export interface LogSink {
  /** One or more complete lines, each ending in "\n". */
  write(lines: string): void;
  /** Opens the file again by name: after logrotate renamed it, new lines go to a new file. */
  reopen(): void;
  close(): void;
}

// Kept before any capture of the app's output replaces them (see capture.ts).
const stdoutWrite = process.stdout.write.bind(process.stdout);
const stderrWrite = process.stderr.write.bind(process.stderr);

function streamSink(write: (chunk: string) => boolean): LogSink {
  return {
    write(lines) {
      if (Buffer.byteLength(lines) <= PIPE_BUF) {
        write(lines);
        return;
      }
      let chunk = '';
      for (const line of lines.split(/(?<=\n)/)) {
        if (chunk && Buffer.byteLength(chunk) + Buffer.byteLength(line) > PIPE_BUF) {
          write(chunk);
          chunk = '';
        }
        chunk += line;
      }
      if (chunk) write(chunk);
    },
    reopen() {},
    close() {},
  };
}

function fileSink(path: string): LogSink {
  let fd = openSync(path, 'a');
  return {
    write(lines) {
      writeSync(fd, lines);
    },
    reopen() {
      const next = openSync(path, 'a');
      const old = fd;
      fd = next;
      closeSync(old);
    },
    close() {
      closeSync(fd);
    },
  };
}

/** `-` is the given standard stream; anything else a file path. */
export function openSink(target: string, standard: 'stdout' | 'stderr'): LogSink {
  if (target === '-' || target === '') return streamSink(standard === 'stdout' ? stdoutWrite : stderrWrite);
  return fileSink(target);
}

/**
 * Batches lines written in one turn of the event loop into one write: a busy worker's access log costs one
 * system call per turn, not one per request.
 */
export function batched(sink: LogSink): LogSink & { flush(): void } {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const lines = pending;
    pending = '';
    sink.write(lines);
  };
  process.on('exit', flush);
  return {
    write(lines) {
      pending += lines;
      if (pending.length >= 64 * 1024) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
    reopen() {
      flush();
      sink.reopen();
    },
    close() {
      flush();
      process.off('exit', flush);
      sink.close();
    },
  };
}
