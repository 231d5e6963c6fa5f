import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig, placeholderFindings, placeholderNotice } from '../../stacks/config';
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
    // Nothing on stderr (no warning to ignore, no deprecation from cdktf); config/prod.json's example
    // values are one note on stdout.
    expect(res.stderr).toBe('');
    const notice = placeholderNotice(loadConfig({ env: { PLATFORM_ENV: 'prod', PLATFORM_BACKEND: 'local' } }));
    expect(notice).toMatch(/^note: config "prod" holds \d+ example values/);
    expect(res.stdout.split('\n').filter((l) => l.startsWith('note: '))).toEqual([notice]);
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

  it('config that cannot be built (cron hour 25, /28 VPC, public CIDR, both day fields): one line per problem, no stack trace, nothing written', () => {
    const out = path.join(dir, 'unbuildable.out');
    const bad = path.join(dir, 'unbuildable.json');
    const raw = rawConfig() as Record<string, any>;
    raw.schedules = { nightlyBatch: 'cron(0 25 * * ? *)', dailyReporting: 'cron(0 1 1 * MON *)' };
    raw.network = { ...raw.network, cidr: '8.8.0.0/28' };
    fs.writeFileSync(bad, JSON.stringify(raw));
    const res = runSynth({ CDKTF_OUT: out, PLATFORM_CONFIG: bad });
    expect(res.status).toBe(1);
    expect(res.stderr).not.toMatch(/^ {4}at /m);
    const lines = res.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toEqual([
      expect.stringMatching(/^ {2}- network\.cidr: must be a private range .*RFC 1918/),
      expect.stringMatching(/^ {2}- network\.cidr: is too small for 3 private subnets/),
      expect.stringMatching(/^ {2}- schedules\.nightlyBatch: cron hour "25" must be 0-23/),
      expect.stringMatching(/^ {2}- schedules\.dailyReporting: cron day-of-month "1" and day-of-week "MON": exactly one of them must be \?/),
    ]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('PLATFORM_STRICT=1: every placeholder is an error line, exit 1, nothing written', () => {
    const out = path.join(dir, 'strict.out');
    const res = runSynth({ CDKTF_OUT: out, PLATFORM_ENV: 'staging', PLATFORM_STRICT: '1' });
    expect(res.status).toBe(1);
    expect(res.stderr).not.toMatch(/^ {4}at /m);
    expect(res.stderr).not.toMatch(/^warning:/m);
    const count = placeholderFindings(loadConfig({ env: { PLATFORM_ENV: 'staging' } })).length;
    expect(res.stderr.split('\n').filter((l) => / \[PLATFORM_STRICT=1\]$/.test(l))).toHaveLength(count);
    expect(fs.existsSync(out)).toBe(false);
  });
});
