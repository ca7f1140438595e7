/**
 * sd_notify: tells systemd (a `Type=notify` unit) when the server is ready, reloading or stopping, which
 * process is the main one after a binary upgrade, and a status line. Node's `dgram` has no unix datagram
 * sockets, so the messages go through the `systemd-notify` command, our child: as root it sends in its parent's
 * name (the master); otherwise in its own and waits until systemd has read the message, so a unit needs
 * `NotifyAccess=all`.
 */
import { execFile } from 'node:child_process';
import { log } from '../logging/logger.js';
import type { ArbiterObserver } from './observer.js';
import type { WorkerHandle } from './worker-handle.js';

type Env = Readonly<Record<string, string | undefined>>;

/** STATUS= after worker churn is sent at most this often: a status line is one process spawn. */
const STATUS_EVERY_MS = 1000;

export class Notifier {
  readonly #socket: string | undefined;
  /** Messages go out one after another: READY=1 must not overtake the RELOADING=1 before it. */
  #queue: Promise<void> = Promise.resolve();
  #missing = false;

  constructor(env: Env) {
    this.#socket = env.NOTIFY_SOCKET || undefined;
  }

  get enabled(): boolean {
    return this.#socket !== undefined && !this.#missing;
  }

  /** Sends `KEY=VALUE` assignments in one message; a no-op outside systemd. Never throws. */
  notify(...assignments: string[]): void {
    if (!this.enabled) return;
    this.#queue = this.#queue.then(() => this.#send(assignments));
  }

  /** Resolves once every message so far was handed over: before the master exits. */
  flush(): Promise<void> {
    return this.#queue;
  }

  #send(assignments: string[]): Promise<void> {
    if (this.#missing) return Promise.resolve();
    return new Promise((resolve) => {
      execFile(
        'systemd-notify',
        assignments,
        { env: { ...process.env, NOTIFY_SOCKET: this.#socket }, timeout: 10_000 },
        (err) => {
          if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
            this.#missing = true;
            log.warning(
              'NOTIFY_SOCKET is set but systemd-notify is not installed (Debian package systemd): ' +
                'systemd is not told when the server is ready',
            );
          } else if (err) {
            log.warning(`systemd-notify ${assignments.join(' ')} failed: ${err.message.trim()}`);
          }
          resolve();
        },
      );
    });
  }
}

function status(workers: readonly WorkerHandle[]): string {
  const count = (state: WorkerHandle['state']) => workers.filter((w) => w.state === state).length;
  const booting = count('spawned') + count('booting');
  const draining = count('draining');
  let line = `STATUS=${count('ready')} workers serving`;
  if (booting) line += `, ${booting} booting`;
  if (draining) line += `, ${draining} draining`;
  return line;
}

/** The arbiter's events as systemd notifications. */
export function systemdObserver(
  notifier: Notifier,
  workers: () => readonly WorkerHandle[],
  /** The new master of a binary upgrade in progress, which becomes the main process when this one stops. */
  successor: () => number | undefined,
): Partial<ArbiterObserver> {
  let statusTimer: NodeJS.Timeout | undefined;
  const statusSoon = () => {
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      notifier.notify(status(workers()));
    }, STATUS_EVERY_MS).unref();
  };
  return {
    // Only now, not at bind time (Gunicorn's choice): systemd starts dependants once READY=1 arrives.
    started: () => notifier.notify('READY=1', status(workers())),
    reloaded: () => notifier.notify('RELOADING=1', 'STATUS=Reloading'),
    reloadFinished: () => notifier.notify('READY=1', status(workers())),
    stopping: () => {
      clearTimeout(statusTimer);
      const next = successor();
      // STOPPING=1 would stop the whole unit: with a new master serving, systemd must follow it instead,
      // and learn so before this process (its main pid) exits.
      if (next) notifier.notify(`MAINPID=${next}`, 'STATUS=Handing over to the new master');
      else notifier.notify('STOPPING=1', 'STATUS=Stopping');
    },
    workerBooted: statusSoon,
    workerExited: statusSoon,
  };
}
