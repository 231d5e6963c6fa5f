/**
 * Test-suite benchmark: wall time and peak RSS of the whole jest suite on this machine.
 * Usage: npx tsx bench/tests.ts
 */
import * as path from 'path';
import { measure, printTable } from './lib/measure';

const ROOT = path.resolve(__dirname, '..');
const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
printTable([measure('jest: whole suite', process.execPath, [jest, '--silent'], {}, ROOT)]);
