import { spawnSync } from 'child_process';
import * as path from 'path';
import { ROOT } from '../../test-support/config-fixture';

const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const bench = (...args: string[]) => spawnSync(process.execPath, [tsx, path.join(ROOT, 'bench', 'run.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });

// Benchmarks print figures and assert nothing about time; this only proves `npm run bench` works.
describe('npm run bench', () => {
  it('rejects an unknown benchmark, naming the available ones', () => {
    const res = bench('no-such-bench');
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/unknown benchmark\(s\): no-such-bench; available: /);
    for (const name of ['lambda-bundles', 'processor', 'synth', 'tests']) expect(res.stderr).toContain(name);
  });

  it('lists the benchmarks with what each measures when no name is given (the tests benchmark takes minutes)', () => {
    const res = bench();
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^ {2}synth +Synth benchmark: /m);
    expect(res.stdout).toMatch(/^ {2}tests +Test-suite benchmark: /m);
    expect(res.stdout).not.toContain('### bench/');
  });

  it('runs the synth benchmark and prints both measurements', () => {
    const res = bench('synth', '--', '--runs', '1');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/node -e 'require\("@cdktf\/provider-aws"\)' \(median of 1\) +\d+\.\d\d +\d+/);
    expect(res.stdout).toMatch(/app synth: all 5 stacks \(scripts\/synth\.mjs\) \(median of 1\) +\d+\.\d\d +\d+/);
    expect(res.stdout).toMatch(/synth \/ root-import: \d+\.\d\dx time, \d+\.\d\dx memory/);
  });
});
