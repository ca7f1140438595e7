#!/usr/bin/env node
/**
 * Builds dist/: tsc type-checks and writes the declarations, esbuild writes the JavaScript as one bundle per
 * process entry, with shared code in dist/chunks/. A process then loads a handful of files instead of eighty
 * modules one by one, which on Node 20 took about 40 ms of the master's start and part of each worker's
 * (docs/design.md).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--emitDeclarationOnly'], {
  stdio: 'inherit',
});
await build({
  absWorkingDir: root,
  // The files a process or a thread starts from (src/paths.ts names them), and the package's API.
  entryPoints: ['src/cli/main.ts', 'src/worker/main.ts', 'src/worker/threads/thread.ts', 'src/index.ts'],
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
