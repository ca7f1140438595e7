/**
 * The master's pid file (`-p`). It is written through a temporary file and a rename, so a reader never sees
 * it half-written, and removed at exit only while it still names this process.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { TsunicornError } from '../errors.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is only not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function writeAtomically(path: string, pid: number): void {
  const tmp = `${path}.${pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  renameSync(tmp, path);
}

export class Pidfile {
  #path: string;

  private constructor(path: string) {
    this.#path = path;
  }

  get path(): string {
    return this.#path;
  }

  /**
   * Claims `path` for this process. A file naming another running process means another master: the
   * start is refused. One naming a dead process (or this very pid, reused after a container restart) is
   * stale and replaced.
   */
  static create(path: string): Pidfile {
    const other = readPid(path);
    if (other !== undefined && other !== process.pid && isRunning(other)) {
      throw new TsunicornError(
        'TSU_ERR_PIDFILE',
        `Already running on pid ${other}: the pid file ${path} names a running process. Stop that master, or give this one another --pid file.`,
      );
    }
    try {
      writeAtomically(path, process.pid);
    } catch (err) {
      throw new TsunicornError(
        'TSU_ERR_PIDFILE',
        `Cannot write the pid file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        { cause: err },
      );
    }
    return new Pidfile(path);
  }

  /** Moves the file to `path` (an upgraded master taking the old master's name); it replaces what is there. */
  rename(path: string): void {
    renameSync(this.#path, path);
    this.#path = path;
  }

  /** Removes the file unless another process has written its own pid there since. */
  remove(): void {
    if (readPid(this.#path) !== process.pid) return;
    try {
      unlinkSync(this.#path);
    } catch {
      // Already gone: nothing left to clean up.
    }
  }
}
