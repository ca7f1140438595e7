import { readFileSync } from 'node:fs';

/** Read from package.json next to dist/ (or src/), so the version has one home. */
export const version: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
