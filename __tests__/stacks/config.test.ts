import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listEnvironments, loadConfig, parseConfig, resourceName } from '../../stacks/config';
import { configProblems as problems, govCloudConfig, rawConfig, testConfig } from '../../test-support/config-fixture';

describe('config files', () => {
  it.each(['dev', 'staging', 'prod'])('config/%s.json is valid', (env) => {
    const cfg = loadConfig({ env: { PLATFORM_ENV: env } });
    expect(cfg.environment).toBe(env);
    expect(cfg.tags.Environment).toBe(env);
  });

  it('lists the environments', () => {
    expect(listEnvironments()).toEqual(['dev', 'prod', 'staging']);
  });

  it('prod reaches ~2,000 reports a day (jurisdictions x types x entities)', () => {
    const r = loadConfig({ env: { PLATFORM_ENV: 'prod' } }).reporting;
    expect(r.jurisdictions.length * r.reportTypes.length * r.entities.length).toBe(2000);
  });

  it('defaults to dev', () => {
    expect(loadConfig({ env: {} }).environment).toBe('dev');
  });
});

describe('config validation: one line per problem naming field, value and rule', () => {
  const cases: [string, (c: Record<string, any>) => void, RegExp][] = [
    ['environment too short', (c) => { c.environment = 'ab'; c.tags.Environment = 'ab'; }, /^environment: must be 3-20 chars of \[a-z0-9-\] \(got "ab"\)$/],
    ['environment bad chars', (c) => { c.environment = 'Dev_1'; c.tags.Environment = 'Dev_1'; }, /^environment: .*\(got "Dev_1"\)$/],
    ['environment too long', (c) => { c.environment = 'a'.repeat(21); c.tags.Environment = c.environment; }, /^environment: must be 3-20/],
    ['project', (c) => { c.project = '9lives'; }, /^project: must be 2-15 chars/],
    ['region', (c) => { c.region = 'mars-1'; }, /^region: must be an AWS region.*\(got "mars-1"\)$/],
    ['account id', (c) => { c.allowedAccountIds = ['12345']; }, /^allowedAccountIds\.0: must be a 12-digit AWS account id \(got "12345"\)$/],
    ['no account ids', (c) => { c.allowedAccountIds = []; }, /^allowedAccountIds: must list at least one account id/],
    ['missing tag', (c) => { delete c.tags.CostCenter; }, /^tags\.CostCenter: .*\(got missing\)$/],
    ['tag env mismatch', (c) => { c.tags.Environment = 'prod'; }, /^tags\.Environment: must equal environment "dev"/],
    ['notification email', (c) => { c.notificationEmail = 'ops@localhost'; }, /^notificationEmail: must be an email address.*\(got "ops@localhost"\)$/],
    ['security email', (c) => { c.securityEmail = 'nope'; }, /^securityEmail: must be an email address/],
    ['cidr', (c) => { c.network.cidr = '10.0.0.0/8'; }, /^network\.cidr: must be an IPv4 CIDR between \/16 and \/28.*\(got "10\.0\.0\.0\/8"\)$/],
    ['az count', (c) => { c.network.azCount = 1; }, /^network\.azCount: must be at least 2 \(got 1\)$/],
    ['zone count', (c) => { c.network.zoneNames = ['us-east-1a', 'us-east-1b']; }, /^network\.zoneNames: must list azCount \(3\) zones, got 2/],
    ['zone of another region', (c) => { c.network.zoneNames = ['us-east-1a', 'us-east-1b', 'eu-west-1c']; }, /^network\.zoneNames: must be distinct zones of region us-east-1/],
    ['zone name', (c) => { c.network.zoneNames = ['us-east-1a', 'us-east-1b', 'east']; }, /^network\.zoneNames\.2: must be an AZ name like us-east-1a \(got "east"\)$/],
    ['network mode', (c) => { c.network.mode = 'public'; }, /^network\.mode: .*\(got "public"\)$/],
    ['existing vpc id', (c) => { c.network = { mode: 'existing', vpcId: 'vpc0123', vpcCidr: '10.0.0.0/16', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], routeTableIds: ['rtb-0123456789abcdef0'] }; }, /^network\.vpcId: must match \^vpc-/],
    ['existing one subnet', (c) => { c.network = { mode: 'existing', vpcId: 'vpc-0123456789abcdef0', vpcCidr: '10.0.0.0/16', subnetIds: ['subnet-0123456789abcdef0'], routeTableIds: ['rtb-0123456789abcdef0'] }; }, /^network\.subnetIds: must list at least 2 private subnets/],
    ['existing no route table', (c) => { c.network = { mode: 'existing', vpcId: 'vpc-0123456789abcdef0', vpcCidr: '10.0.0.0/16', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], routeTableIds: [] }; }, /^network\.routeTableIds: must list at least 1 route table/],
    ['max vcpus low', (c) => { c.batch.maxVcpus = 8; }, /^batch\.maxVcpus: must be at least 16 \(got 8\)$/],
    ['max vcpus high', (c) => { c.batch.maxVcpus = 1024; }, /^batch\.maxVcpus: must be at most 512 \(got 1024\)$/],
    ['attempt timeout low', (c) => { c.batch.jobAttemptTimeoutSeconds = 60; }, /^batch\.jobAttemptTimeoutSeconds: must be at least 3600 \(got 60\)$/],
    ['attempt timeout high', (c) => { c.batch.jobAttemptTimeoutSeconds = 30000; }, /^batch\.jobAttemptTimeoutSeconds: must be at most 28800/],
    ['attempts do not fit the window', (c) => { c.batch.jobAttemptTimeoutSeconds = 14400; c.batch.attempts = 3; }, /^batch\.jobAttemptTimeoutSeconds: attempts \(3\) x attempt timeout must fit the 4-hour window \(14400 s\), got 43200 s/],
    ['max amount as a float', (c) => { c.batch.maxAmount = 1e6; }, /^batch\.maxAmount: .*\(got 1000000\)$/],
    ['max amount not a decimal', (c) => { c.batch.maxAmount = '1e6'; }, /^batch\.maxAmount: must be a positive decimal string/],
    ['image tag latest', (c) => { c.batch.imageTag = 'latest'; }, /^batch\.imageTag: must be an immutable tag or sha256 digest, never "latest" \(got "latest"\)$/],
    ['log retention not a CloudWatch value', (c) => { c.retention.logDays = 400 + 1; }, /^retention\.logDays: must be one of CloudWatch's retention values/],
    ['log retention too short', (c) => { c.retention.logDays = 30; }, /^retention\.logDays: must be at least 365 \(PCI DSS 10\.5\.1\) \(got 30\)$/],
    ['audit retention 2555 is not valid in CloudWatch', (c) => { c.retention.auditLogDays = 2555; }, /^retention\.auditLogDays: must be one of CloudWatch's retention values/],
    ['data years', (c) => { c.retention.dataYears = 5; }, /^retention\.dataYears: must be at least 7 \(got 5\)$/],
    ['report years', (c) => { c.retention.reportYears = 7; }, /^retention\.reportYears: must be at least 10 \(got 7\)$/],
    ['schedule', (c) => { c.schedules.nightlyBatch = '0 0 * * *'; }, /^schedules\.nightlyBatch: must be an EventBridge cron/],
    ['jurisdiction', (c) => { c.reporting.jurisdictions = ['EU', 'MARS']; }, /^reporting\.jurisdictions\.1: .*\(got "MARS"\)$/],
    ['report type', (c) => { c.reporting.reportTypes = []; }, /^reporting\.reportTypes: /],
    ['duplicate entities', (c) => { c.reporting.entities = ['E-1', 'E-1']; }, /^reporting\.entities: must not contain duplicates/],
    ['aurora acu', (c) => { c.reporting.auroraMinAcu = 8; c.reporting.auroraMaxAcu = 4; }, /^reporting\.auroraMinAcu: must not exceed auroraMaxAcu/],
    ['singleton flag', (c) => { c.singletons.guardDuty = 'maybe'; }, /^singletons\.guardDuty: .*\(got "maybe"\)$/],
    ['unknown field', (c) => { c.batch.vcpus = 4; }, /^batch: unknown field\(s\) vcpus/],
    ['backend type', (c) => { c.backend = { type: 'gcs' }; }, /^backend\.type: .*\(got "gcs"\)$/],
    ['s3 backend bucket', (c) => { c.backend = { type: 's3', bucket: 'Bad_Bucket', region: 'us-east-1', keyPrefix: 'x' }; }, /^backend\.bucket: must be an S3 bucket name/],
    ['producer role not an ARN', (c) => { c.security.producerRoleArns = ['producer']; }, /^security\.producerRoleArns\.0: must be an IAM role ARN .*\(got "producer"\)$/],
    ['producer role of another service', (c) => { c.security.producerRoleArns = ['arn:aws:iam::123456789012:user/alice']; }, /^security\.producerRoleArns\.0: must be an IAM role ARN/],
    ['producer role with a short account', (c) => { c.security.producerRoleArns = ['arn:aws:iam::12345:role/p']; }, /^security\.producerRoleArns\.0: must be an IAM role ARN/],
    ['producer role of an unknown partition', (c) => { c.security.producerRoleArns = ['arn:aws-eu:iam::123456789012:role/p']; }, /^security\.producerRoleArns\.0: must be an IAM role ARN/],
    ['producer roles not a list', (c) => { c.security.producerRoleArns = 'arn:aws:iam::123456789012:role/p'; }, /^security\.producerRoleArns: .*\(got "arn:aws:iam::123456789012:role\/p"\)$/],
    ['cloud backend org', (c) => { c.backend = { type: 'cloud', organization: '', workspacePrefix: 'p' }; }, /^backend\.organization: must name the Terraform Cloud organization/],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const found = problems(mutate);
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('reports every problem at once, one per line', () => {
    const found = problems((c) => { c.region = 'x'; c.batch.maxVcpus = 1; c.notificationEmail = 'y'; });
    expect(found).toHaveLength(3);
    try {
      parseConfig({ ...rawConfig(), region: 'x', notificationEmail: 'y' }, 'file.json');
    } catch (e) {
      expect((e as Error).message.split('\n')).toEqual([
        'invalid platform config file.json:',
        expect.stringMatching(/^ {2}- region: /),
        expect.stringMatching(/^ {2}- notificationEmail: /),
      ]);
    }
    expect.assertions(2);
  });

  it('defaults maxVcpus to 256', () => {
    const raw = rawConfig() as Record<string, any>;
    delete raw.batch.maxVcpus;
    expect(parseConfig(raw).batch.maxVcpus).toBe(256);
  });
});

describe('security.producerRoleArns', () => {
  it('defaults to no producer roles', () => {
    const raw = rawConfig() as Record<string, any>;
    delete raw.security.producerRoleArns;
    expect(parseConfig(raw).security.producerRoleArns).toEqual([]);
  });

  it.each([
    'arn:aws:iam::123456789012:role/producer',
    'arn:aws:iam::123456789012:role/upstream/team-a/producer_1+=,.@-',
    'arn:aws-us-gov:iam::123456789012:role/producer',
    'arn:aws-cn:iam::123456789012:role/producer',
  ])('accepts %s', (arn) => {
    expect(testConfig({ security: { producerRoleArns: [arn] } }).security.producerRoleArns).toEqual([arn]);
  });

  it('prod and staging carry an example producer role', () => {
    for (const env of ['prod', 'staging']) {
      expect(loadConfig({ env: { PLATFORM_ENV: env } }).security.producerRoleArns).toEqual([expect.stringMatching(/^arn:aws:iam::\d{12}:role\//)]);
    }
  });
});

describe('GovCloud', () => {
  it('a us-gov-west-1 config with pinned zones and a GovCloud producer role loads', () => {
    const cfg = govCloudConfig();
    expect(cfg.region).toBe('us-gov-west-1');
    expect(cfg.network).toMatchObject({ mode: 'create', zoneNames: ['us-gov-west-1a', 'us-gov-west-1b', 'us-gov-west-1c'] });
    expect(cfg.security.producerRoleArns).toEqual(['arn:aws-us-gov:iam::111111111111:role/upstream/example-producer']);
  });
});

describe('environment overrides', () => {
  it('PLATFORM_ENV picks the file', () => {
    expect(loadConfig({ env: { PLATFORM_ENV: 'staging' } }).backend.type).toBe('s3');
  });

  it('rejects an unknown environment naming the choices', () => {
    expect(() => loadConfig({ env: { PLATFORM_ENV: 'qa1' } })).toThrow(/not found \(set PLATFORM_ENV to one of dev, prod, staging/);
  });

  it('rejects a malformed PLATFORM_ENV', () => {
    expect(() => loadConfig({ env: { PLATFORM_ENV: '../etc' } })).toThrow(/PLATFORM_ENV: must be 3-20 chars/);
  });

  it('PLATFORM_BACKEND=local replaces a remote backend (CI synth without credentials)', () => {
    expect(loadConfig({ env: { PLATFORM_ENV: 'prod', PLATFORM_BACKEND: 'local' } }).backend).toEqual({ type: 'local' });
  });

  it('PLATFORM_BACKEND=cloud with PLATFORM_TFC_ORG', () => {
    const cfg = loadConfig({ env: { PLATFORM_ENV: 'prod', PLATFORM_TFC_ORG: 'other-org' } });
    expect(cfg.backend).toMatchObject({ type: 'cloud', organization: 'other-org', hostname: 'app.terraform.io' });
  });

  it('PLATFORM_BACKEND=s3 without bucket settings is a clear error', () => {
    expect(() => loadConfig({ env: { PLATFORM_ENV: 'dev', PLATFORM_BACKEND: 's3' } })).toThrow(/backend\.bucket: .*\(got missing\)/);
  });

  it('PLATFORM_IMAGE_TAG pins the processor image, and is validated', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(loadConfig({ env: { PLATFORM_IMAGE_TAG: digest } }).batch.imageTag).toBe(digest);
    expect(() => loadConfig({ env: { PLATFORM_IMAGE_TAG: 'latest' } })).toThrow(/batch\.imageTag/);
  });

  it('PLATFORM_CONFIG points at an explicit file; broken JSON is a clear error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const f = path.join(dir, 'x.json');
    fs.writeFileSync(f, '{ nope');
    expect(() => loadConfig({ env: { PLATFORM_CONFIG: f } })).toThrow(/file: not valid JSON/);
    fs.writeFileSync(f, JSON.stringify({ ...rawConfig(), environment: 'sandbox', tags: { ...(rawConfig().tags as object), Environment: 'sandbox' } }));
    expect(loadConfig({ env: { PLATFORM_CONFIG: f } }).environment).toBe('sandbox');
  });
});

describe('naming', () => {
  it('derives every name from project and environment', () => {
    expect(resourceName(testConfig(), 'job-status')).toBe('finbatch-dev-job-status');
  });
});
