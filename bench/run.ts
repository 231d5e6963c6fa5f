/**
 * Runs benchmarks by name: `npm run bench -- synth processor`, or `npm run bench -- all`. With no name it
 * lists the benchmarks (some take minutes: `tests` runs the whole jest suite). Each benchmark is its own
 * script in bench/ that prints figures and asserts nothing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const available = fs.readdirSync(__dirname).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, '')).sort();
const [names, extra] = (() => {
  const dash = process.argv.indexOf('--');
  const args = process.argv.slice(2, dash > 0 ? dash : undefined);
  return [args.length === 1 && args[0] === 'all' ? available : args, dash > 0 ? process.argv.slice(dash + 1) : []];
})();
if (names.length === 0) {
  // The first sentence of each script's doc comment says what it measures.
  const summary = (name: string): string => {
    const text = fs.readFileSync(path.join(__dirname, `${name}.ts`), 'utf8');
    const doc = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
    const flat = doc.replace(/^\s*\* ?/gm, ' ').replace(/\s+/g, ' ').trim();
    const sentence = flat.split(/(?<=\.)\s/)[0] ?? '';
    return sentence.length > 100 ? `${sentence.slice(0, 99)}…` : sentence;
  };
  console.log('usage: npm run bench -- <name>... [-- <options>]   or   npm run bench -- all\n');
  for (const name of available) console.log(`  ${name.padEnd(16)} ${summary(name)}`);
  process.exit(0);
}
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
