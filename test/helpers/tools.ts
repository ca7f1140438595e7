/**
 * System tools for the system and stress suites (wrk, h2load, nginx, haproxy, systemd-socket-activate, …).
 * A missing tool is installed from Debian when running as root; otherwise the test fails saying what to
 * install — never a silent skip.
 */
import { execFileSync } from 'node:child_process';

let updated = false;

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns the tool's name once it is on PATH, installing `debianPackage` first when needed and possible. */
export function requireTool(tool: string, debianPackage: string): string {
  if (has(tool)) return tool;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${tool} is missing: install it with \`apt-get install -y ${debianPackage}\` (or run as root)`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!updated) {
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    updated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', debianPackage], {
    stdio: 'inherit',
    env,
  });
  if (!has(tool)) throw new Error(`${tool} is still missing after installing ${debianPackage}`);
  return tool;
}
