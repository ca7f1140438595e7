/**
 * Which worker classes the R1/R5/R7 scenarios run for. `npm run test:stress` (and CI) runs `async`, whose
 * promises hold; `npm run test:stress:classes` runs `sync` and `threads`, which do not hold them yet (the
 * figures are in docs/reliability.md). Naming the classes is explicit: nothing is skipped silently.
 */
export type StressClass = 'async' | 'sync' | 'threads';

const all: readonly StressClass[] = ['async', 'sync', 'threads'];

export const stressClasses: readonly StressClass[] = (process.env.TSUNICORN_STRESS_CLASSES ?? 'async')
  .split(',')
  .map((c) => c.trim())
  .filter((c): c is StressClass => (all as readonly string[]).includes(c));

if (stressClasses.length === 0) throw new Error(`TSUNICORN_STRESS_CLASSES names none of ${all.join(', ')}`);
