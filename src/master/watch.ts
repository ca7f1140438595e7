/**
 * --reload: watches the app's directory tree (and --reload-extra-file) and asks for a reload on change. One
 * non-recursive watch per directory, skipping node_modules and dot-directories while walking: a recursive
 * watch would first walk node_modules, which can hold more directories than inotify allows a user.
 */
import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseAppSpec, resolveModule } from '../http/app-loader.js';
import { log } from '../logging/logger.js';

/** Editors save in bursts (temp file, rename, chmod): one reload for the burst. */
const DEBOUNCE_MS = 300;
const MAX_DIRECTORIES = 2000;

const ignored = (name: string) => name.startsWith('.') || name === 'node_modules';

function walk(root: string, into: string[]): void {
  if (into.length >= MAX_DIRECTORIES) return;
  into.push(root);
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory() && !ignored(e.name)) walk(join(root, e.name), into);
}

/** Starts watching; calls `changed` with the path that changed, at most once per burst. Returns a stop. */
export function watchForReload(
  app: string,
  extraFiles: readonly string[],
  cwd: string,
  changed: (path: string) => void,
): () => void {
  const directories: string[] = [];
  /** Single files watched through their directory, so a save by rename is still seen. */
  const files = new Map<string, Set<string>>();
  try {
    walk(dirname(resolveModule(parseAppSpec(app).module, cwd)), directories);
  } catch (err) {
    log.warning(`--reload: cannot find the app's files to watch: ${(err as Error).message}`);
  }
  for (const extra of extraFiles) {
    const path = resolve(cwd, extra);
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {}
    if (isDirectory) walk(path, directories);
    else files.set(dirname(path), (files.get(dirname(path)) ?? new Set()).add(basename(path)));
  }
  if (directories.length >= MAX_DIRECTORIES) {
    log.warning(`--reload: watching only the first ${MAX_DIRECTORIES} directories`);
  }

  let timer: NodeJS.Timeout | undefined;
  const fire = (path: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => changed(path), DEBOUNCE_MS);
  };
  const watchers: FSWatcher[] = [];
  const add = (dir: string, accept: (name: string) => boolean) => {
    try {
      const w = watch(dir, (_event, name) => {
        if (name && accept(name)) fire(join(dir, name));
      });
      w.on('error', () => w.close());
      watchers.push(w);
    } catch (err) {
      log.warning(`--reload: cannot watch ${dir}: ${(err as Error).message}`);
    }
  };
  const watched = new Set(directories);
  for (const dir of watched) add(dir, (name) => !ignored(name));
  for (const [dir, names] of files) if (!watched.has(dir)) add(dir, (name) => names.has(name));
  log.info(`--reload: watching ${watched.size} director${watched.size === 1 ? 'y' : 'ies'} for changes`);
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
