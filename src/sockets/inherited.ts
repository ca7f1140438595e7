/**
 * Sockets a master finds already open at start, instead of binding: from systemd socket activation
 * (`LISTEN_FDS`, `LISTEN_PID`) or from the master it replaces on USR2 (`TSUNICORN_FD`). Both arrive the way
 * `fd://N` does, so one path adopts them all.
 */
import { adoptListener, type Listener } from './listeners.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Listener fds a re-executed master hands its replacement: `3,4,…`. */
export const UPGRADE_FDS_ENV = 'TSUNICORN_FD';

/** systemd's first passed descriptor (SD_LISTEN_FDS_START). */
const SD_LISTEN_FDS_START = 3;

export interface InheritedSockets {
  readonly from: 'systemd' | 'upgrade';
  readonly fds: readonly number[];
}

/**
 * The descriptors this process inherited, if any. systemd's are ours only when `LISTEN_PID` is our pid: the
 * variables leak into processes systemd did not start (a shell inside the unit, a child), and those must bind.
 */
export function inheritedSockets(env: Env, pid = process.pid): InheritedSockets | undefined {
  const upgrade = env[UPGRADE_FDS_ENV];
  if (upgrade) {
    const fds = upgrade.split(',').map((s) => Number.parseInt(s, 10));
    if (fds.every((fd) => Number.isInteger(fd) && fd >= 3)) return { from: 'upgrade', fds };
  }
  const count = Number.parseInt(env.LISTEN_FDS ?? '', 10);
  if (env.LISTEN_PID === String(pid) && count > 0) {
    return { from: 'systemd', fds: Array.from({ length: count }, (_, i) => SD_LISTEN_FDS_START + i) };
  }
  return undefined;
}

/** Variables that describe this process's own descriptors: a child must never read them as its own. */
export const inheritanceEnv = [UPGRADE_FDS_ENV, 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'] as const;

export function withoutInheritance(env: Env): Record<string, string | undefined> {
  const rest: Record<string, string | undefined> = { ...env };
  for (const name of inheritanceEnv) delete rest[name];
  return rest;
}

/** Adopts every inherited descriptor or none. */
export function adoptListeners(fds: readonly number[]): Listener[] {
  const adopted: Listener[] = [];
  try {
    for (const fd of fds) adopted.push(adoptListener(fd));
    return adopted;
  } catch (err) {
    for (const l of adopted) l.close();
    throw err;
  }
}
