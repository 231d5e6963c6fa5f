/**
 * Config values that pass the field formats but cannot be built (or would be built wrong) are
 * rejected at load with one line per problem; placeholders warn, and fail with PLATFORM_STRICT=1.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigError, EXAMPLE_ACCOUNT_ID, isPlaceholderAccountId, listEnvironments, loadConfig, maxVpcPrefix, placeholderFindings, reportingDeadlineProblem,
  scheduleProblems,
} from '../../stacks/config';
import { subnetCidr } from '../../stacks/network/topology';
import { configProblems as problems, rawConfig, testConfig } from '../../test-support/config-fixture';

describe('VPC CIDRs', () => {
  it.each([
    ['10.0.0.0/27', 3, /^network\.cidr: is too small for 3 private subnets plus the reserved first one: use \/26 or larger \(got "10\.0\.0\.0\/27"\)$/],
    ['10.0.0.0/28', 2, /^network\.cidr: is too small for 2 private subnets .*use \/26 or larger/],
    ['10.0.0.1/16', 3, /^network\.cidr: must have no host bits set \(did you mean 10\.0\.0\.0\/16\?\) \(got "10\.0\.0\.1\/16"\)$/],
    ['8.8.0.0/16', 3, /^network\.cidr: must be a private range inside 10\.0\.0\.0\/8, 172\.16\.0\.0\/12 or 192\.168\.0\.0\/16 \(RFC 1918\) \(got "8\.8\.0\.0\/16"\)$/],
    ['172.32.0.0/16', 3, /RFC 1918/],
    ['192.169.0.0/16', 3, /RFC 1918/],
  ])('%s (azCount %d) is rejected', (cidr, azCount, expected) => {
    const found = problems((c) => { c.network.cidr = cidr; c.network.azCount = azCount; });
    expect(found).toEqual([expect.stringMatching(expected)]);
  });

  it('reports every CIDR problem at once', () => {
    expect(problems((c) => { c.network.cidr = '8.8.8.8/28'; })).toHaveLength(3);
  });

  it.each(['10.0.0.0/16', '172.16.0.0/12'.replace('/12', '/16'), '172.31.0.0/16', '192.168.0.0/16', '10.20.30.0/24', '10.0.0.0/26'])('%s is accepted', (cidr) => {
    expect(testConfig({ network: { cidr } }).network).toMatchObject({ cidr });
  });

  it('the size rule matches what the topology can carve', () => {
    for (const azCount of [2, 3]) {
      const max = maxVpcPrefix(azCount);
      const newBits = (prefix: number) => Math.min(8, 28 - prefix);
      for (let i = 1; i <= azCount; i++) expect(() => subnetCidr(`10.0.0.0/${max}`, newBits(max), i)).not.toThrow();
      expect(() => subnetCidr(`10.0.0.0/${max + 1}`, newBits(max + 1), azCount)).toThrow();
    }
  });

  it('existing-mode vpcCidr: host bits and RFC 1918', () => {
    const existing = { mode: 'existing', vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], routeTableIds: ['rtb-0123456789abcdef0'] };
    expect(problems((c) => { c.network = { ...existing, vpcCidr: '100.64.0.0/16' }; })).toEqual([expect.stringMatching(/^network\.vpcCidr: must be a private range/)]);
    expect(problems((c) => { c.network = { ...existing, vpcCidr: '10.1.2.3/16' }; })).toEqual([expect.stringMatching(/^network\.vpcCidr: must have no host bits set/)]);
  });
});

describe('EventBridge schedules', () => {
  it.each([
    ['nightlyBatch', 'cron(0 25 * * ? *)', /^schedules\.nightlyBatch: cron hour "25" must be 0-23, with \* , - \/ \(got "cron\(0 25 \* \* \? \*\)"\)$/],
    ['dailyReporting', 'cron(99 1 * * ? *)', /^schedules\.dailyReporting: cron minute "99" must be 0-59/],
    ['dailyReporting', 'cron(0 1 1 * MON *)', /^schedules\.dailyReporting: cron day-of-month "1" and day-of-week "MON": exactly one of them must be \?/],
    ['dailyReporting', 'cron(0 1 ? * ? *)', /exactly one of them must be \?/],
    ['dailyReporting', 'cron(0 1 32 * ? *)', /cron day-of-month "32" must be 1-31, with \* , - \/ \? L W/],
    ['dailyReporting', 'cron(0 1 ? 13 MON *)', /cron month "13" must be 1-12 or JAN-DEC/],
    ['dailyReporting', 'cron(0 1 ? * 8 *)', /cron day-of-week "8" must be 1-7 or SUN-SAT, with \* , - \/ \? L #/],
    ['dailyReporting', 'cron(0 1 ? * MON#6 *)', /cron day-of-week "MON#6"/],
    ['dailyReporting', 'cron(0 1 * * ? 1969)', /cron year "1969" must be 1970-2199/],
    ['dailyReporting', 'cron(0/0 1 * * ? *)', /cron minute "0\/0"/],
    ['dailyReporting', 'cron(0 1 * FOO ? *)', /cron month "FOO"/],
    ['dailyReporting', 'rate(1 hours)', /rate unit must be singular/],
    ['dailyReporting', 'rate(5 minute)', /rate unit must be plural/],
    ['nightlyBatch', 'cron(0 1 ? * MON-FRI *)', /^schedules\.nightlyBatch: must be one fixed daily start time cron\(M H \* \* \? \*\)/],
    ['nightlyBatch', 'rate(1 day)', /^schedules\.nightlyBatch: must be one fixed daily start time/],
  ])('%s %s is rejected', (key, expr, expected) => {
    const found = problems((c) => { c.schedules[key] = expr; });
    expect(found).toEqual([expect.stringMatching(expected)]);
  });

  it('two bad fields are two lines', () => {
    expect(problems((c) => { c.schedules.dailyReporting = 'cron(99 25 * * ? *)'; })).toHaveLength(2);
  });

  // The hours are after the dev config's nightly window (00:00 + 4 h): see the reporting deadline rule below.
  it.each([
    'cron(0/15 8-17 ? JAN-DEC MON-FRI 2026-2030)', 'cron(0 5 L * ? *)', 'cron(0 5 LW * ? *)', 'cron(0 5 15W * ? *)',
    'cron(0 5 ? * 6L *)', 'cron(0 5 ? * 6#3 *)', 'cron(0 5 ? * L *)', 'cron(5,35 4-6,22-23 * * ? *)', 'cron(0 5 ? * sun,sat *)',
    'cron(0 5 1 * ? *)', 'cron(* 5 * * ? *)', 'cron(0 4 * * ? *)', 'cron(59 23 * * ? *)',
  ])('dailyReporting %s is accepted', (expr) => {
    expect(testConfig({ schedules: { dailyReporting: expr } }).schedules.dailyReporting).toBe(expr);
  });

  it.each(['rate(1 day)', 'rate(12 hours)', 'rate(5 minutes)'])('rate expression %s is valid EventBridge syntax', (expr) => {
    expect(scheduleProblems(expr)).toEqual([]);
  });
});

describe('the reporting deadline falls after the nightly window, on the run\'s UTC day', () => {
  // run-deadline {check: "loaded"} checks the run started that UTC day: a check inside the window
  // alerts on every night that is still running (at 01:00, every night longer than an hour).
  it.each([
    ['cron(0 1 * * ? *)', '01:00'], ['cron(59 3 * * ? *)', '03:59'], ['cron(0 0 * * ? *)', '00:00'],
    ['cron(0/30 3-6 * * ? *)', '03:00'], ['cron(0 1,6 ? * MON-FRI *)', '01:00'],
  ])('%s is rejected (fires at %s), one line naming the window and a time that works', (expr, at) => {
    expect(problems((c) => { c.schedules.dailyReporting = expr; })).toEqual([
      `schedules.dailyReporting: fires at ${at} UTC, inside or before the nightly window 00:00-04:00 UTC (schedules.nightlyBatch + batch.windowHours): `
      + 'run-deadline checks the run started that UTC day, so the reporting deadline must fall after the window on that day, '
      + `at or after 04:00 UTC, e.g. cron(0 4 * * ? *) (got ${JSON.stringify(expr)})`,
    ]);
  });

  it('follows the configured window: a 02:30 start with 6 hours needs 08:30 or later', () => {
    const c = (dailyReporting: string) => problems((x) => { x.schedules = { nightlyBatch: 'cron(30 2 * * ? *)', dailyReporting }; x.batch.windowHours = 6; });
    expect(c('cron(0 5 * * ? *)')).toEqual([expect.stringMatching(/^schedules\.dailyReporting: fires at 05:00 UTC, inside or before the nightly window 02:30-08:30 UTC .* e\.g\. cron\(30 8 \* \* \? \*\)/)]);
    expect(c('cron(30 8 * * ? *)')).toEqual([]);
  });

  it('a rate(...) has no fixed time of day; a window past midnight leaves no deadline on the run\'s day', () => {
    expect(problems((c) => { c.schedules.dailyReporting = 'rate(1 day)'; })).toEqual([
      expect.stringMatching(/^schedules\.dailyReporting: must be a cron\(\.\.\.\) at fixed times of day at or after 04:00 UTC, e\.g\. cron\(0 4 \* \* \? \*\): a rate/)]);
    expect(problems((c) => { c.schedules.nightlyBatch = 'cron(0 22 * * ? *)'; })).toEqual([
      expect.stringMatching(/^schedules\.dailyReporting: the nightly window 22:00-02:00 UTC .* ends after midnight/)]);
  });

  it('is checked only once both schedules are valid (no second line for a broken expression)', () => {
    expect(problems((c) => { c.schedules.dailyReporting = 'cron(0 1 1 * MON *)'; })).toHaveLength(1);
  });

  it('every environment\'s config has its reporting deadline after the window', () => {
    expect(listEnvironments()).toEqual(['dev', 'prod', 'staging']);
    for (const env of listEnvironments()) {
      const raw = rawConfig(env) as { schedules: { nightlyBatch: string; dailyReporting: string }; batch: { windowHours: number } };
      expect({ env, problem: reportingDeadlineProblem(raw.schedules.nightlyBatch, raw.batch.windowHours, raw.schedules.dailyReporting) }).toEqual({ env, problem: undefined });
    }
  });
});

describe('values the stacks would refuse at synth', () => {
  it('reporting.sesIdentity must be a domain or an email address', () => {
    expect(problems((c) => { c.reporting.sesIdentity = 'xxxxx'; })).toEqual([
      'reporting.sesIdentity: must be a domain like reports.example.com or an email address (got "xxxxx")',
    ]);
    expect(testConfig({ reporting: { sesIdentity: 'reports@bank.net' } }).reporting.sesIdentity).toBe('reports@bank.net');
  });
});

describe('placeholders', () => {
  it('one line per placeholder field: account ids, example.* addresses, example organisation', () => {
    const found = placeholderFindings(loadConfig({ env: { PLATFORM_ENV: 'prod' } }));
    expect(found).toEqual(expect.arrayContaining([
      'allowedAccountIds.0: "333333333333" uses placeholder account id 333333333333 (rule: replace with the real AWS account id)',
      expect.stringMatching(/^notificationEmail: "batch-ops@example\.com" is a placeholder example\.\* address/),
      expect.stringMatching(/^reporting\.recipients\.EU\.0\.email: "esma-reports@example\.eu" is a placeholder/),
      expect.stringMatching(/^reporting\.recipients\.US\.0\.principalArn: "arn:aws:iam::999999999999:role\/REPLACE-ME-.*" uses placeholder account id 999999999999/),
      expect.stringMatching(/^security\.producerRoleArns\.0: "arn:aws:iam::333333333333:role\/.*" uses placeholder account id 333333333333/),
      'backend.organization: "example-bank" is a placeholder organisation name (rule: set the real Terraform Cloud organization or PLATFORM_TFC_ORG)',
    ]));
    expect(new Set(found.map((l) => l.split(':')[0])).size).toBe(found.length);
  });

  it.each(['000000000000', '111111111111', '999999999999', '123456789012'])('%s is a placeholder account id', (id) => {
    expect(isPlaceholderAccountId(id)).toBe(true);
  });

  it('real-looking values are not placeholders', () => {
    const cfg = testConfig({
      allowedAccountIds: ['482915736104'],
      notificationEmail: 'ops@bank.test.internal.net', securityEmail: 'sec@examplebank.com',
      reporting: { sesIdentity: 'reports.bank.net', sourceEmail: 'reports@reports.bank.net', defaultRecipient: 'reg@bank.net',
        recipients: { EU: 'eu@regulator.eu', US: 'us@regulator.gov', UK: 'uk@regulator.uk', APAC: 'apac@regulator.sg' } },
    });
    expect(placeholderFindings(cfg)).toEqual([]);
  });

  it('PLATFORM_STRICT=1 turns every placeholder into an error line; unset or 0 loads', () => {
    expect(loadConfig({ env: { PLATFORM_ENV: 'staging', PLATFORM_STRICT: '0' } }).environment).toBe('staging');
    let error: unknown;
    try {
      loadConfig({ env: { PLATFORM_ENV: 'staging', PLATFORM_STRICT: '1' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).problems;
    expect(lines).toHaveLength(placeholderFindings(loadConfig({ env: { PLATFORM_ENV: 'staging' } })).length);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^allowedAccountIds\.0: "222222222222" uses placeholder account id .* \[PLATFORM_STRICT=1\]$/)]));
  });

  it('PLATFORM_STRICT=1 loads a config without placeholders', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-strict-'));
    const f = path.join(dir, 'real.json');
    const raw = rawConfig() as Record<string, any>;
    raw.allowedAccountIds = ['482915736104'];
    for (const k of ['notificationEmail', 'securityEmail']) raw[k] = 'ops@bank.net';
    raw.reporting = { ...raw.reporting, sesIdentity: 'reports.bank.net', sourceEmail: 'r@reports.bank.net', defaultRecipient: 'd@bank.net',
      recipients: { EU: 'eu@bank.net', US: 'us@bank.net', UK: 'uk@bank.net', APAC: 'apac@bank.net' } };
    fs.writeFileSync(f, JSON.stringify(raw));
    expect(loadConfig({ env: { PLATFORM_CONFIG: f, PLATFORM_STRICT: '1' } }).allowedAccountIds).toEqual(['482915736104']);
  });

  it('rejects a malformed PLATFORM_STRICT', () => {
    expect(() => loadConfig({ env: { PLATFORM_STRICT: 'yes' } })).toThrow(/PLATFORM_STRICT: must be 1 .* \(got "yes"\)/);
  });

  it('the verify tooling makes up ARNs in the config module\'s example account', () => {
    expect(isPlaceholderAccountId(EXAMPLE_ACCOUNT_ID)).toBe(true);
  });
});
