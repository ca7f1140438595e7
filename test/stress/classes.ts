/**
 * Which worker classes the R1/R5/R7 scenarios run for: all three by default (`npm run test:stress`, CI);
 * TSUNICORN_STRESS_CLASSES=sync,threads narrows a run to the classes named. Naming the classes is explicit:
 * nothing is skipped silently.
 */
export type StressClass = 'async' | 'sync' | 'threads';

const all: readonly StressClass[] = ['async', 'sync', 'threads'];

export const stressClasses: readonly StressClass[] = (process.env.TSUNICORN_STRESS_CLASSES ?? all.join(','))
  .split(',')
  .map((c) => c.trim())
  .filter((c): c is StressClass => (all as readonly string[]).includes(c));

if (stressClasses.length === 0) throw new Error(`TSUNICORN_STRESS_CLASSES names none of ${all.join(', ')}`);

/** The CLI arguments that run `workers` workers of a class; threads workers get `threads` threads each. */
export function classArgs(cls: StressClass, workers: number, threads = 4): string[] {
  return ['-w', String(workers), '-k', cls, ...(cls === 'threads' ? ['--threads', String(threads)] : [])];
}
