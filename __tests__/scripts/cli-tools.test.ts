import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../../test-support/config-fixture';

const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const run = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120000 });

describe('npm run generate and the container bundle (npm run bundle:processor)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-tools-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const csv = path.join(dir, 'night.csv');

  it('generates a dated file over the given entities, with a manifest', () => {
    const res = run([tsx, 'scripts/generate-transactions.ts', '--count', '500', '--seed', '11', '--bad-share', '0.05',
      '--date', '2026-11-20', '--entities', 'ENTITY-001,ENTITY-002', '--out', csv, '--manifest', path.join(dir, 'manifest.json')]);
    expect(res.status).toBe(0);
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0].split(',')).toEqual(expect.arrayContaining(['transactionId', 'amount', 'currency', 'entityId', 'timestamp']));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.count).toBe(500);
    expect(manifest.valid).toBeGreaterThan(400);
    const header = lines[0].split(',');
    const valid = lines.slice(1).map((l) => l.split(',')).filter((f) => f.length === header.length);
    expect(valid.some((f) => f[header.indexOf('timestamp')].startsWith('2026-11-20T'))).toBe(true);
    expect(new Set(valid.map((f) => f[header.indexOf('entityId')]).filter((e) => /^[A-Z0-9-]+$/.test(e)))).toEqual(new Set(['ENTITY-001', 'ENTITY-002']));
  });

  it('rejects bad flags clearly', () => {
    const res = run([tsx, 'scripts/generate-transactions.ts', '--count', '5', '--out', csv, '--date', '2026-13-45']);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('--date must be a day like 2026-11-20, got "2026-13-45"');
  });

  it.each([['--help'], ['-h']])('prints the generator usage for %s and exits 0', (flag) => {
    const res = run([tsx, 'scripts/generate-transactions.ts', flag]);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^usage: generate --count N --out FILE/);
    expect(res.stdout).toContain('--bad-share');
  });

  it('refuses a --date outside the strict calendar (years 2000-2100, real days)', () => {
    for (const date of ['1999-12-31', '2026-02-30', '2101-01-01']) {
      const res = run([tsx, 'scripts/generate-transactions.ts', '--count', '5', '--out', csv + '.x', '--date', date]);
      expect(res.status).toBe(2);
      expect(res.stderr).toContain(`--date must be a day like 2026-11-20, got "${date}"`);
    }
  });

  it('bundles the processor into one file that runs on its own and reconciles the file', () => {
    const bundle = path.join(dir, 'bundle', 'main.js');
    const built = run(['scripts/bundle-processor.mjs', bundle]);
    expect(built.status).toBe(0);
    const out = path.join(dir, 'out');
    // Run from a directory without node_modules: the image ships this one file only.
    const res = spawnSync(process.execPath, [bundle, csv, '--out', out], { cwd: dir, encoding: 'utf8', timeout: 120000 });
    expect(res.status).toBe(0);
    const summaryFile = fs.readdirSync(out, { recursive: true }).map(String).find((f) => f.endsWith('summary.json'));
    expect(summaryFile).toBeDefined();
    const summary = JSON.parse(fs.readFileSync(path.join(out, summaryFile!), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(summary.counts.read).toBe(500);
    expect(summary.counts.accepted).toBe(manifest.valid);
    expect(summary.input.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
