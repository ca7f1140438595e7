import { lookup } from 'node:dns/promises';
import { lstatSync, readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { connect, isIP } from 'node:net';
import { TsunicornError } from '../errors.js';
import { type Address, formatAddress, parseAddress } from './address.js';
import { adoptFd, type BoundHandle, bindTcp, bindUnix } from './handle.js';

/** A socket the master owns for its whole life; workers inherit `fd` and accept on it. */
export interface Listener {
  /** The address really bound (the real port when 0 was asked). */
  readonly address: Address;
  readonly fd: number;
  /**
   * Closes the socket. A unix socket file this master created is removed too, unless `removeFile` is false:
   * the master handed the socket to a new master (USR2), which serves on after this one exits; then the
   * socket stays open until this process exits.
   */
  close(removeFile?: boolean): void;
}

function describe(a: Address): string {
  return a.kind === 'tcp' ? `${a.host}:${a.port}` : formatAddress(a);
}

const reasons: Record<string, string> = {
  EADDRINUSE: 'Connection in use',
  EACCES: 'Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'Cannot assign requested address (not an address of this machine)',
  ENOENT: 'No such directory',
  EBADF: 'Not an open descriptor',
  EINVAL: 'Not a socket',
};

function bindError(a: Address, err: unknown): TsunicornError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const reason = reasons[code] ?? `Cannot bind (${code || (err as Error).message})`;
  return new TsunicornError('TSU_ERR_BIND', `${reason}: ${describe(a)}`, { cause: err });
}

/** A stale socket file (no process accepting on it) is removed; a live one means another server. */
async function clearStaleSocket(path: string, a: Address): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) {
    throw new TsunicornError('TSU_ERR_BIND', `Refusing to replace ${path}: it exists and is not a socket`);
  }
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw bindError(a, Object.assign(new Error('EADDRINUSE'), { code: 'EADDRINUSE' }));
  unlinkSync(path);
}

function own(address: Address, handle: BoundHandle, unlinkPath?: string): Listener {
  return {
    address,
    fd: handle.fd,
    close(removeFile = true) {
      // libuv removes the path of a unix socket it bound when the handle closes; the descriptor of one that
      // must stay is left to the process exit instead.
      if (unlinkPath && !removeFile) return;
      handle.close();
      if (unlinkPath) {
        try {
          unlinkSync(unlinkPath);
        } catch {}
      }
    },
  };
}

export async function bindListener(spec: string): Promise<Listener> {
  const a = parseAddress(spec);
  switch (a.kind) {
    case 'tcp': {
      let host = a.host;
      let family = isIP(host);
      if (!family) {
        try {
          ({ address: host, family } = await lookup(host));
        } catch (err) {
          throw new TsunicornError(
            'TSU_ERR_BIND',
            `Cannot resolve host ${JSON.stringify(a.host)} in ${spec}`,
            { cause: err },
          );
        }
      }
      try {
        const { handle, port } = bindTcp(host, a.port, family as 4 | 6);
        return own({ kind: 'tcp', host, port }, handle);
      } catch (err) {
        throw bindError(a, err);
      }
    }
    case 'unix': {
      await clearStaleSocket(a.path, a);
      try {
        return own(a, bindUnix(a.path), a.path);
      } catch (err) {
        throw bindError(a, err);
      }
    }
    case 'fd':
      return adoptListener(a.fd);
  }
}

/** A unix socket's path from the kernel's table, found by the socket's inode (Linux). */
function unixPath(fd: number): string | undefined {
  try {
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
    for (const line of readFileSync('/proc/self/net/unix', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (inode && cols[6] === inode && cols[7]?.startsWith('/')) return cols[7];
    }
  } catch {
    // No /proc (macOS): the address stays fd://N.
  }
  return undefined;
}

/** What an inherited descriptor is bound to, so logs show the real address rather than fd://N. */
function inheritedAddress(fd: number, handle: BoundHandle): Address {
  const out: Record<string, unknown> = {};
  if (handle.getsockname && handle.getsockname(out) === 0 && typeof out.port === 'number') {
    return { kind: 'tcp', host: String(out.address), port: out.port };
  }
  const path = unixPath(fd);
  return path ? { kind: 'unix', path } : { kind: 'fd', fd };
}

/**
 * Adopts an inherited descriptor (`fd://N`, systemd socket activation, a master that re-executed itself on
 * USR2). It is never unlinked: the socket belongs to whoever passed it.
 */
export function adoptListener(fd: number): Listener {
  try {
    const handle = adoptFd(fd);
    return own(inheritedAddress(fd, handle), handle);
  } catch (err) {
    throw bindError({ kind: 'fd', fd }, err);
  }
}

/** Binds every address or none: on a failure the ones already bound are closed again. */
export async function bindListeners(specs: readonly string[]): Promise<Listener[]> {
  const bound: Listener[] = [];
  try {
    for (const spec of specs) bound.push(await bindListener(spec));
    return bound;
  } catch (err) {
    for (const l of bound) l.close();
    throw err;
  }
}
