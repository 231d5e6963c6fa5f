/**
 * Reporting stack, data side: Aurora, migrations on deploy, the reporting Lambdas and their roles.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthPlatform, testConfig } from '../../test-support/config-fixture';
import { normalizeRecipients } from '../../domain/reporting/recipients';
import { databaseWindows, AURORA_ENGINE_VERSION } from '../../stacks/reporting/aurora';
import { migrationSet } from '../../stacks/reporting/migrations';
import {
  allows, arr, cfg, expectUpstream, findResource, fnByName, fnStatements, name, platform, R, rep, resolveIn, resources, Statement, upstreamOrSelf,
} from './reporting-fixture';

describe('reporting stack: Aurora MySQL Serverless v2', () => {
  const cluster = findResource(rep, 'aws_rds_cluster');

  it('runs 3.04 LTS Serverless v2 with ACUs from config, in the network stack\'s private subnets and database SG', () => {
    expect(cluster).toMatchObject({
      engine: 'aurora-mysql',
      engine_mode: 'provisioned',
      engine_version: AURORA_ENGINE_VERSION,
      serverlessv2_scaling_configuration: { min_capacity: cfg.reporting.auroraMinAcu, max_capacity: cfg.reporting.auroraMaxAcu },
    });
    expect(AURORA_ENGINE_VERSION).toMatch(/^8\.0\.mysql_aurora\.3\.04\.\d+$/);
    expect(cluster.vpc_security_group_ids).toHaveLength(1);
    expectUpstream(cluster.vpc_security_group_ids[0], platform.network, platform.network.databaseSecurityGroupId);
    const subnets = findResource(rep, 'aws_db_subnet_group');
    expect(cluster.db_subnet_group_name).toContain('aws_db_subnet_group.');
    expect(subnets.subnet_ids).toHaveLength(platform.network.privateSubnetIds.length);
    (subnets.subnet_ids as string[]).forEach((ref, i) => expectUpstream(ref, platform.network, platform.network.privateSubnetIds[i]));
    // The skeleton's placeholder database SG is gone: the SG belongs to the network stack.
    expect(resources(rep, 'aws_security_group')).toEqual({});
  });

  it('encrypts storage, the RDS-managed master secret and Performance Insights with its own CMK', () => {
    const keys = resources(rep, 'aws_kms_key');
    const dbKey = Object.entries(keys).find(([, k]) => /database/i.test(k.description as string))!;
    const keyRef = `\${aws_kms_key.${dbKey[0]}.arn}`;
    expect(dbKey[1].enable_key_rotation).toBe(true);
    expect(cluster).toMatchObject({
      storage_encrypted: true,
      kms_key_id: keyRef,
      manage_master_user_password: true,
      master_user_secret_kms_key_id: keyRef,
      iam_database_authentication_enabled: true,
    });
    expect(cluster.master_password).toBeUndefined();
    for (const inst of Object.values(resources(rep, 'aws_rds_cluster_instance'))) {
      expect(inst).toMatchObject({
        instance_class: 'db.serverless', performance_insights_enabled: true, performance_insights_kms_key_id: keyRef,
        publicly_accessible: false, auto_minor_version_upgrade: true, copy_tags_to_snapshot: true, monitoring_interval: 60,
      });
      const roleId = /^\$\{aws_iam_role\.([^.]+)\.arn\}$/.exec(inst.monitoring_role_arn)![1];
      expect(JSON.parse(resources(rep, 'aws_iam_role')[roleId].assume_role_policy as string).Statement[0].Principal)
        .toEqual({ Service: 'monitoring.rds.amazonaws.com' });
    }
  });

  it('protects against deletion, keeps a final snapshot and 30 days of backups', () => {
    expect(cluster).toMatchObject({
      deletion_protection: true, skip_final_snapshot: false, final_snapshot_identifier: name('reporting-db-final'),
      backup_retention_period: 30, copy_tags_to_snapshot: true,
    });
  });

  it('requires TLS and audit-logs connections, DCL and DDL; exports audit/error/slowquery, never the general log', () => {
    const pg = findResource(rep, 'aws_rds_cluster_parameter_group');
    const params = Object.fromEntries((pg.parameter as R[]).map((p) => [p.name, p.value]));
    expect(params).toMatchObject({
      require_secure_transport: 'ON', server_audit_logging: '1', server_audit_events: 'CONNECT,QUERY_DCL,QUERY_DDL',
    });
    expect(params.general_log).toBeUndefined();
    expect(pg.family).toBe('aurora-mysql8.0');
    expect(cluster.db_cluster_parameter_group_name).toContain('aws_rds_cluster_parameter_group.');
    expect([...cluster.enabled_cloudwatch_logs_exports].sort()).toEqual(['audit', 'error', 'slowquery']);
    // RDS's log groups exist first, KMS-encrypted, with retention (audit: the audit retention).
    const groups = Object.values(resources(rep, 'aws_cloudwatch_log_group')).filter((g) => (g.name as string).startsWith('/aws/rds/cluster/'));
    expect(groups.map((g) => g.name).sort()).toEqual(['audit', 'error', 'slowquery'].map((t) => `/aws/rds/cluster/${name('reporting-db')}/${t}`));
    for (const g of groups) {
      expectUpstream(g.kms_key_id, platform.data, platform.data.logsKey.arn);
      expect(g.retention_in_days).toBe((g.name as string).endsWith('audit') ? cfg.retention.auditLogDays : cfg.retention.logDays);
    }
  });

  it('places backup and maintenance windows outside the nightly batch window and apart from each other', () => {
    const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
    const [bStart, bEnd] = (cluster.preferred_backup_window as string).split('-').map(minutes);
    const cron = /^cron\((\d+) (\d+) /.exec(cfg.schedules.nightlyBatch)!;
    const batchStart = Number(cron[2]) * 60 + Number(cron[1]);
    const batchEnd = batchStart + cfg.batch.windowHours * 60;
    expect(bStart >= batchEnd || bEnd <= batchStart).toBe(true);
    const mw = /^(\w{3}):(\d\d:\d\d)-(\w{3}):(\d\d:\d\d)$/.exec(cluster.preferred_maintenance_window as string)!;
    const [mStart, mEnd] = [minutes(mw[2]), minutes(mw[4])];
    expect(mStart >= bEnd || mEnd <= bStart).toBe(true);
    expect(mStart >= batchEnd || mEnd <= batchStart).toBe(true);
    // Derived, not fixed: a later batch moves them.
    const later = databaseWindows({ schedules: { ...cfg.schedules, nightlyBatch: 'cron(30 2 * * ? *)' }, batch: { ...cfg.batch, windowHours: 4 } });
    expect(later.backup).toBe('07:30-08:30');
    expect(later.maintenance).toBe('sun:09:00-sun:10:00');
    const wraps = databaseWindows({ schedules: { ...cfg.schedules, nightlyBatch: 'cron(0 20 * * ? *)' }, batch: { ...cfg.batch, windowHours: 4 } });
    expect(wraps).toEqual({ backup: '01:00-02:00', maintenance: 'mon:02:30-mon:03:30' });
    expect(() => databaseWindows({ schedules: { ...cfg.schedules, nightlyBatch: 'rate(1 day)' }, batch: cfg.batch }))
      .toThrow('schedules.nightlyBatch: must be a cron(...) with a fixed minute and hour');
  });

  it('has a writer only in dev and adds a reader when reporting.auroraReader is on', () => {
    expect(Object.values(resources(rep, 'aws_rds_cluster_instance')).map((i) => i.identifier)).toEqual([name('reporting-db-writer')]);
    const withReader = synthPlatform(testConfig({ reporting: { auroraReader: true } })).tf.reporting;
    const ids = Object.values(resources(withReader, 'aws_rds_cluster_instance')).map((i) => [i.identifier, i.promotion_tier]);
    expect(ids.sort()).toEqual([[name('reporting-db-reader'), 1], [name('reporting-db-writer'), 0]]);
  });
});

describe('reporting stack: migrations on deploy', () => {
  it('invokes report-migrate with the migration set hash, after the writer exists', () => {
    const inv = findResource(rep, 'aws_lambda_invocation');
    const [migrateId] = fnByName(name('report-migrate'));
    expect(inv.function_name).toBe(`\${aws_lambda_function.${migrateId}.function_name}`);
    const set = migrationSet();
    expect(set.files).toContain('lambda-src/report-migrate/index.ts');
    expect(JSON.parse(inv.input as string)).toEqual({ action: 'migrate', migrationSetHash: set.hash });
    expect(inv.triggers).toEqual({ migrationSetHash: set.hash });
    const writer = Object.keys(resources(rep, 'aws_rds_cluster_instance'))[0];
    expect(inv.depends_on).toContain(`aws_rds_cluster_instance.${writer}`);
  });

  it('hashes the migration files deterministically and changes when one changes', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    fs.mkdirSync(path.join(root, 'lambda-src/report-migrate/sql'), { recursive: true });
    fs.writeFileSync(path.join(root, 'lambda-src/report-migrate/sql/001_init.sql'), 'CREATE TABLE report_log (id INT);');
    fs.writeFileSync(path.join(root, 'lambda-src/report-migrate/index.ts'), 'export const handler = 1;');
    fs.writeFileSync(path.join(root, 'lambda-src/report-migrate/notes.md'), 'ignored');
    const one = migrationSet(root);
    expect(one.files).toEqual(['lambda-src/report-migrate/index.ts', 'lambda-src/report-migrate/sql/001_init.sql']);
    expect(migrationSet(root).hash).toBe(one.hash);
    fs.writeFileSync(path.join(root, 'lambda-src/report-migrate/notes.md'), 'still ignored');
    expect(migrationSet(root).hash).toBe(one.hash);
    fs.writeFileSync(path.join(root, 'lambda-src/report-migrate/sql/002_index.sql'), 'CREATE INDEX i ON report_log (id);');
    expect(migrationSet(root).hash).not.toBe(one.hash);
    fs.mkdirSync(path.join(root, 'domain/reporting'), { recursive: true });
    const before = migrationSet(root).hash;
    fs.writeFileSync(path.join(root, 'domain/reporting/schema.ts'), 'export const v = 1;');
    expect(migrationSet(root).hash).not.toBe(before);
    expect(() => migrationSet(fs.mkdtempSync(path.join(os.tmpdir(), 'empty-'))))
      .toThrow('report-migrate: no migration files found');
  });
});

describe('reporting stack: Lambdas', () => {
  const dbEnvKeys = ['DB_HOST', 'DB_NAME', 'DB_PORT', 'DB_SECRET_ARN'];
  const functions = Object.values(resources(rep, 'aws_lambda_function'));

  it('deploys the seven reporting functions, each with its own role', () => {
    expect(functions.map((f) => f.function_name).sort()).toEqual(
      ['confirm', 'deliver', 'failure', 'generate', 'loader', 'migrate', 'validate'].map((n) => name(`report-${n}`)));
    expect(new Set(functions.map((f) => f.role)).size).toBe(7);
    for (const f of functions) expect(f.runtime).toBe('nodejs22.x');
  });

  it('sets the contract env vars; deliver gets no database settings', () => {
    const env = (n: string) => fnByName(name(n))[1].environment.variables as Record<string, string>;
    const cluster = Object.keys(resources(rep, 'aws_rds_cluster'))[0];
    for (const n of ['report-generate', 'report-validate', 'report-confirm', 'report-failure', 'report-migrate', 'report-loader']) {
      expect(Object.keys(env(n))).toEqual(expect.arrayContaining([...dbEnvKeys, 'ENVIRONMENT']));
      expect(env(n).DB_SECRET_ARN).toBe(`\${aws_rds_cluster.${cluster}.master_user_secret[0].secret_arn}`);
      expect(env(n).DB_HOST).toBe(`\${aws_rds_cluster.${cluster}.endpoint}`);
    }
    expectUpstream(env('report-generate').REPORTS_BUCKET, platform.data, platform.data.reportsBucket.name);
    expectUpstream(env('report-generate').REPORTS_KMS_KEY_ARN, platform.data, platform.data.s3Key.arn);
    expectUpstream(env('report-validate').REPORTS_BUCKET, platform.data, platform.data.reportsBucket.name);
    expect(env('report-confirm').METRICS_NAMESPACE).toBeUndefined();
    expectUpstream(env('report-loader').PROCESSED_BUCKET, platform.data, platform.data.processedBucket.name);
    const deliver = env('report-deliver');
    expect(Object.keys(deliver).filter((k) => k.startsWith('DB_'))).toEqual([]);
    expect(deliver).toMatchObject({
      SOURCE_EMAIL: cfg.reporting.sourceEmail,
      DEFAULT_RECIPIENT: cfg.reporting.defaultRecipient,
      ENVIRONMENT: 'dev',
    });
    // The normalized lists (the config may still use the single-address form).
    expect(JSON.parse(deliver.RECIPIENTS_JSON)).toEqual(normalizeRecipients(cfg.reporting.recipients));
    expect(deliver.ATTACHMENT_MAX_BYTES).toBe(String(cfg.reporting.attachmentMaxBytes));
    expectUpstream(deliver.REPORTS_BUCKET, platform.data, platform.data.reportsBucket.name);
    expect(deliver.SES_CONFIGURATION_SET).toContain('aws_sesv2_configuration_set.');
    expectUpstream(deliver.IDEMPOTENCY_TABLE, platform.data, platform.data.idempotencyTable.name);
  });

  it('runs every function but deliver in the VPC with the reporting Lambda SG', () => {
    for (const f of functions) {
      if (f.function_name === name('report-deliver')) {
        expect(f.vpc_config).toBeUndefined();
        continue;
      }
      expect(f.vpc_config.security_group_ids).toHaveLength(1);
      expectUpstream(f.vpc_config.security_group_ids[0], platform.network, platform.network.reportingLambdaSecurityGroupId);
    }
  });

  it('grants each role only what its handler does', () => {
    const secretArn = fnByName(name('report-generate'))[1].environment.variables.DB_SECRET_ARN;
    const readsSecret = (n: string) => allows(fnStatements(name(n)), 'secretsmanager:GetSecretValue')
      .every((s) => arr(s.Resource).every((r) => r === secretArn)) && allows(fnStatements(name(n)), 'secretsmanager:GetSecretValue').length === 1;
    for (const n of ['report-generate', 'report-validate', 'report-confirm', 'report-failure', 'report-migrate', 'report-loader']) {
      expect(readsSecret(n)).toBe(true);
    }
    expect(allows(fnStatements(name('report-deliver')), 'secretsmanager:GetSecretValue')).toEqual([]);

    // Only generate writes reports, under reports/; validate and deliver read them, and generate reads its
    // own earlier output (a re-run writes no new version of identical content); nobody else touches the bucket.
    const reportsArn = resolveIn(platform.data, platform.data.reportsBucket.arn) as string;
    const onReports = (s: Statement) => arr(s.Resource).some((r) => upstreamOrSelf(r).startsWith(reportsArn));
    for (const f of functions) {
      const sts = fnStatements(f.function_name);
      const puts = allows(sts, 's3:PutObject').filter(onReports);
      const gets = allows(sts, 's3:GetObject').filter(onReports);
      expect(puts.length).toBe(f.function_name === name('report-generate') ? 1 : 0);
      expect(gets.length).toBe([name('report-validate'), name('report-generate'), name('report-deliver')].includes(f.function_name) ? 1 : 0);
      // Only validate tags (the delivery permit); the bucket policy denies tagging to everyone else too.
      expect(allows(sts, 's3:PutObjectTagging').length).toBe(f.function_name === name('report-validate') ? 1 : 0);
    }
    const tagging = allows(fnStatements(name('report-validate')), 's3:PutObjectTagging')[0];
    expect(arr(tagging.Action).sort()).toEqual(['s3:PutObjectTagging', 's3:PutObjectVersionTagging']);
    expect(arr(tagging.Resource).map(upstreamOrSelf)).toEqual([`${reportsArn}/reports/*`]);
    // deliver: the permit (bytes, version, tag) and the attachment, under reports/ only, no listing;
    // decrypt only through S3.
    const read = allows(fnStatements(name('report-deliver')), 's3:GetObject')[0];
    expect(arr(read.Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectTagging', 's3:GetObjectVersion', 's3:GetObjectVersionTagging']);
    expect(arr(read.Resource).map(upstreamOrSelf)).toEqual([`${reportsArn}/reports/*`]);
    expect(allows(fnStatements(name('report-deliver')), 's3:ListBucket')).toEqual([]);
    const decrypt = allows(fnStatements(name('report-deliver')), 'kms:Decrypt').filter((s) => arr(s.Resource).some((r) => upstreamOrSelf(r) === resolveIn(platform.data, platform.data.s3Key.arn)));
    expect(decrypt).toHaveLength(1);
    expect(arr(decrypt[0].Action)).toEqual(['kms:Decrypt']);
    expect(decrypt[0].Condition).toEqual({ StringEquals: { 'kms:ViaService': `s3.${cfg.region}.amazonaws.com` } });
    const put = allows(fnStatements(name('report-generate')), 's3:PutObject')[0];
    expect(arr(put.Resource).map(upstreamOrSelf)).toEqual([`${reportsArn}/reports/*`]);

    const deliver = fnStatements(name('report-deliver'));
    const send = allows(deliver, 'ses:SendEmail');
    expect(send).toHaveLength(1);
    // SES v2 SendEmail with Content.Raw (attachments) is authorized as ses:SendRawEmail as well.
    expect(arr(send[0].Action).sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
    const identity = Object.keys(resources(rep, 'aws_sesv2_email_identity'))[0];
    const configSet = Object.keys(resources(rep, 'aws_sesv2_configuration_set'))[0];
    expect(arr(send[0].Resource).sort()).toEqual([
      `\${aws_sesv2_configuration_set.${configSet}.arn}`, `\${aws_sesv2_email_identity.${identity}.arn}`,
    ].sort());
    expect(send[0].Condition).toEqual({ StringEquals: { 'ses:FromAddress': cfg.reporting.sourceEmail } });
    const ddb = allows(deliver, 'dynamodb:PutItem');
    expect(ddb).toHaveLength(1);
    expectUpstream(ddb[0].Resource, platform.data, platform.data.idempotencyTable.arn);

    const loader = fnStatements(name('report-loader'));
    const processedArn = resolveIn(platform.data, platform.data.processedBucket.arn) as string;
    expect(allows(loader, 's3:GetObject').flatMap((s) => arr(s.Resource)).map(upstreamOrSelf)).toEqual([`${processedArn}/processed/*`]);

    // No function gets a wildcard action, and "*" resources only where AWS allows nothing narrower.
    const starOk = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses']);
    for (const f of functions) {
      for (const s of fnStatements(f.function_name).filter((st) => st.Effect === 'Allow')) {
        for (const a of arr(s.Action)) expect(a).not.toMatch(/(^\*$|:\*$)/);
        if (arr(s.Resource).includes('*')) for (const a of arr(s.Action)) expect(starOk.has(a)).toBe(true);
      }
    }
  });
});
