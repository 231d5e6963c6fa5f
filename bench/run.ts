/**
 * Runs benchmarks by name (default: all): `npm run bench -- synth processor`.
 * Each benchmark is its own script in bench/ that prints figures and asserts nothing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const available = fs.readdirSync(__dirname).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, '')).sort();
const [names, extra] = (() => {
  const dash = process.argv.indexOf('--');
  const args = process.argv.slice(2, dash > 0 ? dash : undefined);
  return [args.length ? args : available, dash > 0 ? process.argv.slice(dash + 1) : []];
})();
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of names) {
  console.log(`\n### bench/${name}.ts`);
  const tsx = path.join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const res = spawnSync(process.execPath, [tsx, path.join(__dirname, `${name}.ts`), ...extra], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
