/**
 * The jest projects (jest.config.js, lists in test-support/test-projects.js): every suite is in exactly
 * one project, each listed suite exists, and a unit suite cannot start a subprocess.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
const ROOT = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { INTEGRATION, TOOLING } = require('../../test-support/test-projects') as { INTEGRATION: string[]; TOOLING: string[] };

function suites(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return suites(rel);
    return e.name.endsWith('.test.ts') ? [rel] : [];
  });
}

describe('jest projects', () => {
  const all = suites('__tests__');

  it('every listed integration and tooling suite exists, and no suite is listed twice', () => {
    for (const listed of [...INTEGRATION, ...TOOLING]) expect(all).toContain(listed);
    expect(new Set([...INTEGRATION, ...TOOLING]).size).toBe(INTEGRATION.length + TOOLING.length);
  });

  it('jest.config.js builds unit, integration and tooling from those lists; unit is every other suite', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const config = require('../../jest.config.js') as { projects: { displayName: string; testMatch: string[]; testPathIgnorePatterns?: string[] }[] };
    expect(config.projects.map((p) => p.displayName)).toEqual(['unit', 'integration', 'tooling']);
    const [unit, integration, tooling] = config.projects;
    expect(integration.testMatch).toEqual(INTEGRATION.map((p) => `<rootDir>/${p}`));
    expect(tooling.testMatch).toEqual(TOOLING.map((p) => `<rootDir>/${p}`));
    const ignored = (unit.testPathIgnorePatterns ?? []).map((re) => new RegExp(re));
    const inUnit = all.filter((p) => !ignored.some((re) => re.test(path.join(ROOT, p))));
    expect(inUnit.sort()).toEqual(all.filter((p) => !INTEGRATION.includes(p) && !TOOLING.includes(p)).sort());
    expect(inUnit).toContain('__tests__/verify/jest-projects.test.ts');
  });

  it('a unit suite cannot start a subprocess (test-support/unit-guard.ts)', () => {
    expect(() => spawnSync('true')).toThrow(/child_process\.spawnSync in a unit suite: unit tests run no subprocesses/);
  });
});
