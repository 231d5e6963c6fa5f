/**
 * Reporting database: Aurora MySQL 8.0 (3.04 LTS) Serverless v2 with every protection on — its own CMK,
 * RDS-managed master secret, IAM auth, TLS required, audit log (never the general log, which would
 * capture SQL with report content), deletion protection, final snapshot, 30-day backups outside the
 * nightly batch window, a reader when configured.
 */
import type { Construct } from 'constructs';
import { partitionOf, PlatformPart } from '../platform-stack';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import { RdsClusterParameterGroup } from '@cdktf/provider-aws/lib/rds-cluster-parameter-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import type { PlatformConfig } from '../config';
import { KmsKey } from '../constructs/kms-key';
import { EncryptedLogGroup } from '../constructs/encrypted-log-group';
import { assumeRolePolicy, PolicyStatement } from '../constructs/policy';
import { DATABASE_NAME } from '../../contracts/reporting-database';

export const AURORA_ENGINE = 'aurora-mysql';
/** 3.04 is the Aurora MySQL 8.0 long-term-support line. */
export const AURORA_ENGINE_VERSION = '8.0.mysql_aurora.3.04.3';
/** The schema name is a contract with the reporting functions and the local run (contracts/reporting-database.ts). */
export { DATABASE_NAME };
export const DATABASE_PORT = 3306;
export const BACKUP_RETENTION_DAYS = 30;
export const AUDIT_EVENTS = 'CONNECT,QUERY_DCL,QUERY_DDL';
/** Log types exported to CloudWatch; `general` is deliberately absent. */
export const LOG_EXPORTS = ['audit', 'error', 'slowquery'] as const;
export const MONITORING_INTERVAL_SECONDS = 60;

export interface DatabaseWindows {
  /** `hh:mm-hh:mm` UTC. */
  readonly backup: string;
  /** `ddd:hh:mm-ddd:hh:mm` UTC. */
  readonly maintenance: string;
}

const hhmm = (minutes: number) => {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/**
 * Backup and maintenance windows placed after the nightly batch window (cron start + windowHours) plus
 * one hour of slack for the reporting run: backup for an hour, then a Sunday maintenance hour that
 * doesn't overlap the backup. The nightly schedule must be a daily cron with fixed minute and hour.
 */
export function databaseWindows(cfg: Pick<PlatformConfig, 'schedules' | 'batch'>): DatabaseWindows {
  const m = /^cron\((\d{1,2}) (\d{1,2}) /.exec(cfg.schedules.nightlyBatch);
  if (!m) {
    throw new Error(`schedules.nightlyBatch: must be a cron(...) with a fixed minute and hour to place the database backup `
      + `window after it (got ${cfg.schedules.nightlyBatch})`);
  }
  const start = Number(m[2]) * 60 + Number(m[1]);
  const backupStart = start + (cfg.batch.windowHours + 1) * 60;
  const maintenanceStart = backupStart + 90;
  // RDS wants the maintenance window as day:time; moving past midnight moves the day too.
  const day = (mins: number) => ['sun', 'mon'][Math.floor((((mins % 2880) + 2880) % 2880) / 1440)];
  return {
    backup: `${hhmm(backupStart)}-${hhmm(backupStart + 60)}`,
    maintenance: `${day(maintenanceStart)}:${hhmm(maintenanceStart)}-${day(maintenanceStart + 60)}:${hhmm(maintenanceStart + 60)}`,
  };
}

export interface ReportingDatabaseProps {
  readonly clusterIdentifier: string;
  readonly keyAlias: string;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly logsKeyArn: string;
}

export class ReportingDatabase extends PlatformPart {
  readonly key: KmsKey;
  readonly cluster: RdsCluster;
  readonly writer: RdsClusterInstance;
  readonly reader?: RdsClusterInstance;
  readonly parameterGroup: RdsClusterParameterGroup;
  readonly secretArn: string;
  readonly endpoint: string;
  readonly readerEndpoint: string;
  readonly windows: DatabaseWindows;
  private readonly region: string;

  constructor(scope: Construct, id: string, props: ReportingDatabaseProps) {
    super(scope, id, { keepIdInAddresses: true });
    const { platform } = this;
    const { cfg, accountId } = platform;
    this.region = platform.region;
    const clusterId = props.clusterIdentifier;
    this.key = new KmsKey(this, 'key', {
      alias: props.keyAlias,
      description: 'Reporting database: storage, master secret, Performance Insights',
      accountId,
    });

    const subnets = new DbSubnetGroup(this, 'subnets', {
      name: clusterId,
      description: 'Private subnets of the reporting database',
      subnetIds: props.subnetIds,
    });

    this.parameterGroup = new RdsClusterParameterGroup(this, 'params', {
      name: `${clusterId}-params`,
      family: 'aurora-mysql8.0',
      description: 'TLS only, audit log of connections, DCL and DDL',
      parameter: [
        { name: 'require_secure_transport', value: 'ON' },
        { name: 'tls_version', value: 'TLSv1.2,TLSv1.3', applyMethod: 'pending-reboot' },
        { name: 'server_audit_logging', value: '1' },
        { name: 'server_audit_events', value: AUDIT_EVENTS },
        { name: 'slow_query_log', value: '1' },
        { name: 'long_query_time', value: '2' },
        { name: 'log_output', value: 'FILE' },
      ],
    });

    // RDS creates these groups unencrypted and kept forever if they don't exist first.
    const logGroups = LOG_EXPORTS.map((type) => new EncryptedLogGroup(this, `log-${type}`, {
      name: `/aws/rds/cluster/${clusterId}/${type}`,
      retentionDays: type === 'audit' ? cfg.retention.auditLogDays : cfg.retention.logDays,
      kmsKeyArn: props.logsKeyArn,
    }));

    this.windows = databaseWindows(cfg);
    this.cluster = new RdsCluster(this, 'cluster', {
      clusterIdentifier: clusterId,
      engine: AURORA_ENGINE,
      engineMode: 'provisioned',
      engineVersion: AURORA_ENGINE_VERSION,
      databaseName: DATABASE_NAME,
      port: DATABASE_PORT,
      masterUsername: 'reporting_admin',
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: this.key.arn,
      iamDatabaseAuthenticationEnabled: true,
      storageEncrypted: true,
      kmsKeyId: this.key.arn,
      serverlessv2ScalingConfiguration: { minCapacity: cfg.reporting.auroraMinAcu, maxCapacity: cfg.reporting.auroraMaxAcu },
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [props.securityGroupId],
      dbClusterParameterGroupName: this.parameterGroup.name,
      enabledCloudwatchLogsExports: [...LOG_EXPORTS],
      backupRetentionPeriod: BACKUP_RETENTION_DAYS,
      preferredBackupWindow: this.windows.backup,
      preferredMaintenanceWindow: this.windows.maintenance,
      copyTagsToSnapshot: true,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${clusterId}-final`,
      deleteAutomatedBackups: false,
      dependsOn: logGroups.map((g) => g.logGroup),
      // Auto minor upgrades move the cluster along the 3.04 LTS patches; without this Terraform would
      // try to "downgrade" to the pinned patch on the next plan.
      lifecycle: { ignoreChanges: ['engine_version'] },
    });

    // Enhanced Monitoring (OS metrics per second-level interval) publishes through this role only.
    const monitoringRole = new IamRole(this, 'monitoring-role', {
      name: `${clusterId}-monitoring`,
      assumeRolePolicy: assumeRolePolicy('monitoring.rds.amazonaws.com', accountId),
    });
    new IamRolePolicyAttachment(this, 'monitoring-policy', {
      role: monitoringRole.name,
      policyArn: `arn:${partitionOf(this)}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
    });

    const instance = (instanceId: string, suffix: string, promotionTier: number) => new RdsClusterInstance(this, instanceId, {
      identifier: `${clusterId}-${suffix}`,
      clusterIdentifier: this.cluster.id,
      engine: AURORA_ENGINE,
      engineVersion: this.cluster.engineVersion,
      instanceClass: 'db.serverless',
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: this.key.arn,
      performanceInsightsRetentionPeriod: 7,
      promotionTier,
      monitoringInterval: MONITORING_INTERVAL_SECONDS,
      monitoringRoleArn: monitoringRole.arn,
      preferredMaintenanceWindow: this.windows.maintenance,
      lifecycle: { ignoreChanges: ['engine_version'] },
    });
    this.writer = instance('writer', 'writer', 0);
    if (cfg.reporting.auroraReader) this.reader = instance('reader', 'reader', 1);

    this.secretArn = this.cluster.masterUserSecret.get(0).secretArn;
    this.endpoint = this.cluster.endpoint;
    this.readerEndpoint = this.cluster.readerEndpoint;
  }

  /** Read of the RDS-managed master secret (and decrypt through Secrets Manager only). */
  secretReadStatements(sid: string): PolicyStatement[] {
    return [
      { Sid: `${sid}Secret`, Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: this.secretArn },
      {
        Sid: `${sid}SecretKey`,
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: this.key.arn,
        Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
      },
    ];
  }
}
