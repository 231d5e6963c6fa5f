/**
 * Test-suite benchmark: wall time and peak RSS of each jest project (unit, integration, tooling) on this machine.
 * Usage: npx tsx bench/tests.ts [unit|integration|tooling ...]   (default: all three, one after the other)
 * The unit project (`npm test`) is meant to stay within 60 s on two cores. Each row also shows the
 * 1-minute load average before and after it: figures taken while the machine is busy are not comparable.
 */
import * as os from 'os';
import * as path from 'path';
import { measure, printTable } from './lib/measure';

const PROJECTS = ['unit', 'integration', 'tooling'];
const ROOT = path.resolve(__dirname, '..');
const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

const asked = process.argv.slice(2);
const unknown = asked.filter((p) => !PROJECTS.includes(p));
if (unknown.length) {
  console.error(`unknown project(s): ${unknown.join(', ')}; the projects are ${PROJECTS.join(', ')}`);
  process.exit(2);
}
const load = () => os.loadavg()[0].toFixed(2);
const rows = (asked.length ? asked : PROJECTS).map((project) => {
  const before = load();
  const m = measure(`jest --selectProjects ${project}`, process.execPath, [jest, '--selectProjects', project, '--silent'], {}, ROOT);
  return { ...m, label: `${m.label} (load ${before} -> ${load()})` };
});
console.log(`${os.cpus().length} cores`);
printTable(rows);
