/**
 * The exit-code contract shared by master and workers (Gunicorn's numbers): a worker that exits with
 * WORKER_BOOT_ERROR or APP_LOAD_ERROR before it has booted halts the master with the same code.
 */
export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  WORKER_BOOT_ERROR: 3,
  APP_LOAD_ERROR: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The `Reason:` line the master prints when it halts because workers could not boot. */
export function haltReason(code: number): string {
  return code === ExitCode.APP_LOAD_ERROR ? 'App failed to load.' : 'Worker failed to boot.';
}
