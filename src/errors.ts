/**
 * The error catalogue: every error a user can meet has a stable TSU_ERR_* code, a message that says what to
 * do, and the exit code (or HTTP status) it maps to. Codes are never reused once retired.
 */
import { ExitCode } from './lifecycle/exit-codes.js';

export const catalogue = {
  TSU_ERR_USAGE: { exit: ExitCode.USAGE, doc: 'A flag, setting or argument is invalid.' },
  TSU_ERR_BAD_ADDRESS: { exit: ExitCode.USAGE, doc: 'A bind address cannot be parsed.' },
  TSU_ERR_BIND: { exit: ExitCode.ERROR, doc: 'A listening socket cannot be bound or adopted.' },
  TSU_ERR_APP_SPEC: { exit: ExitCode.APP_LOAD_ERROR, doc: 'The app spec names no usable app.' },
  TSU_ERR_APP_LOAD: { exit: ExitCode.APP_LOAD_ERROR, doc: 'The app module failed to import or initialise.' },
  TSU_ERR_WORKER_BOOT: { exit: ExitCode.WORKER_BOOT_ERROR, doc: 'A worker failed to boot.' },
  TSU_ERR_PIDFILE: {
    exit: ExitCode.ERROR,
    doc: 'The --pid file names a running process, or cannot be written.',
  },
  TSU_ERR_ACCOUNT: { exit: ExitCode.USAGE, doc: 'The --user or --group does not exist.' },
  TSU_ERR_UNSUPPORTED_PLATFORM: { exit: ExitCode.ERROR, doc: 'The operating system is not supported.' },
} as const;

export type ErrorCode = keyof typeof catalogue;

export class TsunicornError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TsunicornError';
    this.code = code;
    this.exitCode = catalogue[code].exit;
  }
}
