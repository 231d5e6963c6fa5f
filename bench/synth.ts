/**
 * Synth benchmark: the whole app's synth side by side with merely loading @cdktf/provider-aws's root
 * module (what a root import would cost every process). Prints figures; asserts nothing.
 * Usage: npx tsx bench/synth.ts [--runs 3]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { measure, median, Measurement, printTable } from './lib/measure';

const ROOT = path.resolve(__dirname, '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;

function best(label: string, fn: () => Measurement): Measurement {
  const all = Array.from({ length: runs }, fn);
  return { label: `${label} (median of ${runs})`, seconds: median(all.map((m) => m.seconds)), peakRssMb: median(all.map((m) => m.peakRssMb)), status: all.every((m) => m.status === 0) ? 0 : 1 };
}

const rows = [
  best("node -e 'require(\"@cdktf/provider-aws\")'", () => measure('root', process.execPath, ['-e', 'require("@cdktf/provider-aws")'], {}, ROOT)),
  best('app synth: all 5 stacks (scripts/synth.mjs)', () => measure('synth', process.execPath, [path.join(ROOT, 'scripts', 'synth.mjs')],
    { CDKTF_OUT: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-')), 'out') }, ROOT)),
];
printTable(rows);
const [root, synth] = rows;
console.log(`synth / root-import: ${(synth.seconds / root.seconds).toFixed(2)}x time, ${(synth.peakRssMb / root.peakRssMb).toFixed(2)}x memory`);
