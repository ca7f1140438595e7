/**
 * The files the processes are started from, and package.json. dist/ is a bundle whose shared code sits in
 * dist/chunks/, so a module cannot name a file relative to its own URL; it names it from the package root,
 * found upwards from wherever this code landed (dist/, dist/chunks/, or src/ under tsx).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`tsunicorn: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

const root = packageRoot();

export const packageJson = join(root, 'package.json');
export const entries = {
  cli: join(root, 'dist/cli/main.js'),
  worker: join(root, 'dist/worker/main.js'),
  thread: join(root, 'dist/worker/threads/thread.js'),
} as const;
