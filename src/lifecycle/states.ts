/**
 * A worker's lifecycle as the master sees it. docs/lifecycle.md draws the same table; a unit test keeps the
 * two in step.
 */
export type WorkerState = 'spawned' | 'booting' | 'ready' | 'draining' | 'exited';

export const transitions: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  spawned: ['booting', 'draining', 'exited'],
  booting: ['ready', 'draining', 'exited'],
  ready: ['draining', 'exited'],
  draining: ['exited'],
  exited: [],
};

/** Why the master asked a worker to stop, kept apart from how it exited. */
export type StopReason =
  | 'shutdown'
  | 'quick-shutdown'
  | 'reload'
  | 'scale-down'
  | 'reload-aborted'
  | 'halt'
  | 'max-requests'
  | 'memory';

export function canTransition(from: WorkerState, to: WorkerState): boolean {
  return transitions[from].includes(to);
}
