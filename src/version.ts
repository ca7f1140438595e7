import { readFileSync } from 'node:fs';
import { packageJson } from './paths.js';

/** Read from package.json, so the version has one home. */
export const version: string = JSON.parse(readFileSync(packageJson, 'utf8')).version;
