import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Socket inodes of TCP connections in ESTABLISHED state, from /proc/net/tcp{,6}. */
function establishedInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '01') inodes.add(cols[9]!);
    }
  }
  return inodes;
}

/** How many established TCP connections a process holds open. */
export function establishedConnections(pid: number): number {
  const established = establishedInodes();
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && established.has(m[1]!)) count++;
    } catch {}
  }
  return count;
}

/** CPU time a process has used so far (user and system), in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces, start at the state (field 3); utime and stime are
  // fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
