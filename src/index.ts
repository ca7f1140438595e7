/** The public API. */
export type { Config } from './config/table.js';
export { catalogue, type ErrorCode, TsunicornError } from './errors.js';
export { ExitCode } from './lifecycle/exit-codes.js';
export { version } from './version.js';
