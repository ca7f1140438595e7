import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { MasterMessage } from '../ipc/messages.js';

/** A spawned worker as the arbiter needs it; a fake in unit tests. */
export interface WorkerProcess extends EventEmitter {
  readonly pid: number;
  kill(signal: NodeJS.Signals): boolean;
  /** Sends a message, with a connection handle for `connection`; `done` gets an error when the channel is closed. */
  send(
    message: MasterMessage,
    handle?: Socket,
    options?: object,
    done?: (err: Error | null) => void,
  ): boolean;
}

export interface SpawnRequest {
  readonly entry: string;
  readonly nodeOptions: readonly string[];
  readonly env: Record<string, string | undefined>;
  /** Listener fds, placed at 3, 4, … in the worker. */
  readonly fds: readonly number[];
  /** The worker's user and group (`-u`, `-g`); the master keeps its own. */
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

/** Everything the arbiter does to the OS, so its logic can be tested against a fake. */
export interface ProcessOps {
  spawn(req: SpawnRequest): WorkerProcess;
  now(): number;
}

export const realProcessOps: ProcessOps = {
  spawn(req) {
    // The listener fds go in the stdio array, so the worker finds them at 3, 4, …; the IPC channel comes
    // after them.
    const child = spawn(process.execPath, [...req.nodeOptions, req.entry], {
      stdio: ['ignore', 'inherit', 'inherit', ...req.fds, 'ipc'],
      env: req.env,
      serialization: 'json',
      ...(req.uid !== undefined ? { uid: req.uid } : {}),
      ...(req.gid !== undefined ? { gid: req.gid } : {}),
    });
    return child as WorkerProcess;
  },
  now: () => Date.now(),
};
