/**
 * `-u/--user`, `-g/--group`: workers run unprivileged while the master keeps root to bind low ports and spawn.
 * Names are looked up with `getent`, so users from NSS (LDAP, sssd) work as well as those in /etc/passwd.
 */
import { execFileSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import type { Config } from '../config/table.js';
import { TsunicornError } from '../errors.js';
import type { Listener } from '../sockets/listeners.js';

export interface Credentials {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

/** The `getent` entry's fields, or undefined when there is none. */
function getent(database: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    return execFileSync('getent', [database, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .split(':');
  } catch {
    return undefined;
  }
}

const numeric = (s: string) => /^\d+$/.test(s);

/** Resolves the settings to ids; throws naming what does not exist, or when the master cannot switch. */
export function resolveCredentials(config: Pick<Config, 'user' | 'group'>): Credentials {
  let uid: number | undefined;
  let gid: number | undefined;
  if (config.user) {
    const entry = getent('passwd', config.user);
    if (entry) {
      uid = Number(entry[2]);
      gid = Number(entry[3]);
    } else if (numeric(config.user)) {
      // A bare uid with no passwd entry is common in containers (OpenShift's arbitrary uids).
      uid = Number(config.user);
    } else {
      throw new TsunicornError('TSU_ERR_ACCOUNT', `--user ${config.user}: no such user`);
    }
  }
  if (config.group) {
    const entry = getent('group', config.group);
    if (entry) gid = Number(entry[2]);
    else if (numeric(config.group)) gid = Number(config.group);
    else throw new TsunicornError('TSU_ERR_ACCOUNT', `--group ${config.group}: no such group`);
  }
  const changes =
    (uid !== undefined && uid !== process.getuid?.()) || (gid !== undefined && gid !== process.getgid?.());
  if (changes && process.getuid?.() !== 0) {
    throw new TsunicornError(
      'TSU_ERR_ACCOUNT',
      `--user/--group: only a master running as root can start workers as another user or group`,
    );
  }
  return { uid, gid };
}

/**
 * Hands the files workers use by name to their user: unix socket files (so a proxy in the workers' group
 * can connect) and the log files, which workers reopen on USR1.
 */
export function chownForWorkers(
  { uid, gid }: Credentials,
  listeners: readonly Listener[],
  config: Pick<Config, 'errorLogfile' | 'accessLogfile'>,
): void {
  if (uid === undefined && gid === undefined) return;
  const paths = listeners.flatMap((l) => (l.address.kind === 'unix' ? [l.address.path] : []));
  for (const file of [config.errorLogfile, config.accessLogfile]) if (file && file !== '-') paths.push(file);
  for (const path of paths) {
    try {
      chownSync(path, uid ?? -1, gid ?? -1);
    } catch {
      // A file that does not exist yet is created by the worker itself, as its own.
    }
  }
}
