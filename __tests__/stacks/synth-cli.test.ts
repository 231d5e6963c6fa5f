import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { rawConfig, ROOT } from '../../test-support/config-fixture';

function runSynth(env: Record<string, string>) {
  return spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'synth.mjs')], {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000,
  });
}

describe('npm run synth (scripts/synth.mjs)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));

  it('writes every stack with no AWS credentials', () => {
    const out = path.join(dir, 'good.out');
    const res = runSynth({ CDKTF_OUT: out, PLATFORM_ENV: 'prod', PLATFORM_BACKEND: 'local', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(fs.readdirSync(path.join(out, 'stacks')).sort()).toEqual(['compute', 'data', 'network', 'reporting', 'security-baseline']);
    expect(res.stdout).toMatch(/synthesized 5 stacks into .* in \d+\.\d+ s/);
  });

  it('bad config: exits non-zero, one line per problem, and leaves the previous output untouched', () => {
    const out = path.join(dir, 'bad.out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'sentinel'), 'previous synth');
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...rawConfig(), region: 'moon-1', notificationEmail: 'x' }));
    const res = runSynth({ CDKTF_OUT: out, PLATFORM_CONFIG: bad });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`invalid platform config ${bad}:`);
    expect(res.stderr).toContain('  - region: must be an AWS region like us-east-1 (got "moon-1")');
    expect(res.stderr).toContain('  - notificationEmail: must be an email address like ops@example.com (got "x")');
    expect(res.stderr).toContain('cdktf.out left unchanged');
    expect(fs.readdirSync(out)).toEqual(['sentinel']);
    expect(fs.readdirSync(dir).filter((f) => f.includes('staging'))).toEqual([]);
  });
});
