/** The public API. */

export { type RunOptions, run, type ServerHandle } from './api.js';
export { defineConfig, type UserConfig } from './config/input.js';
export type { Config } from './config/table.js';
export { catalogue, type ErrorCode, TsunicornError } from './errors.js';
export { ExitCode } from './lifecycle/exit-codes.js';
export type {
  CustomLogger,
  HookName,
  Hooks,
  ServerInfo,
  WorkerExit,
  WorkerInfo,
} from './lifecycle/hooks.js';
export { version } from './version.js';
