import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';

export interface PlatformSecurityGroupsProps {
  readonly vpcId: string;
  readonly s3PrefixListId: string;
  readonly dynamodbPrefixListId: string;
}

/** A workload SG: the principals that call AWS APIs from inside the VPC. */
export type WorkloadKey = 'lambda' | 'batch' | 'reportingLambda';

/**
 * Deny-by-default security groups, one rule per resource so every rule has its own description and
 * can be reviewed and changed alone. Terraform removes the all-open egress rule AWS adds to a new SG,
 * so an SG without rule resources here allows nothing.
 *  - workload SGs (compute Lambdas, Batch tasks, reporting Lambdas): no ingress; egress 443 to the
 *    endpoint SG and to the S3/DynamoDB prefix lists (gateway endpoints);
 *  - reporting Lambdas additionally egress 3306 to the database SG;
 *  - database SG: ingress 3306 from the reporting-Lambda SG only, no egress;
 *  - endpoint SG: ingress 443 from the three workload SGs only, no egress (endpoints never dial out).
 */
export class PlatformSecurityGroups extends PlatformPart {
  readonly endpoint: SecurityGroup;
  readonly workloads: Record<WorkloadKey, SecurityGroup>;
  readonly database: SecurityGroup;

  constructor(scope: Construct, id: string, props: PlatformSecurityGroupsProps) {
    super(scope, id, { keepIdInAddresses: true });
    const sg = (sgId: string, purpose: string, description: string) => new SecurityGroup(this, sgId, {
      name: this.platform.name(purpose),
      description,
      vpcId: props.vpcId,
      tags: { Name: this.platform.name(purpose) },
    });
    this.endpoint = sg('endpoint-sg', 'endpoints', 'Interface endpoints: ingress 443 from workload SGs only');
    this.workloads = {
      lambda: sg('lambda-sg', 'lambda', 'Compute Lambdas: no ingress; egress 443 to endpoints and prefix lists'),
      batch: sg('batch-sg', 'batch', 'Batch tasks: no ingress; egress 443 to endpoints and prefix lists'),
      reportingLambda: sg('reporting-lambda-sg', 'reporting-lambda', 'Reporting Lambdas: no ingress; egress 443 + 3306 to the DB'),
    };
    this.database = sg('database-sg', 'reporting-db', 'Reporting database: ingress 3306 from reporting Lambdas only');

    const labels: Record<WorkloadKey, string> = { lambda: 'compute Lambdas', batch: 'Batch tasks', reportingLambda: 'reporting Lambdas' };
    for (const [key, workload] of Object.entries(this.workloads) as [WorkloadKey, SecurityGroup][]) {
      const k = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      new VpcSecurityGroupEgressRule(this, `${k}-to-endpoints`, {
        securityGroupId: workload.id,
        description: 'HTTPS to the interface endpoints',
        ipProtocol: 'tcp', fromPort: 443, toPort: 443,
        referencedSecurityGroupId: this.endpoint.id,
      });
      new VpcSecurityGroupEgressRule(this, `${k}-to-s3`, {
        securityGroupId: workload.id,
        description: 'HTTPS to S3 through the gateway endpoint (managed prefix list)',
        ipProtocol: 'tcp', fromPort: 443, toPort: 443,
        prefixListId: props.s3PrefixListId,
      });
      new VpcSecurityGroupEgressRule(this, `${k}-to-dynamodb`, {
        securityGroupId: workload.id,
        description: 'HTTPS to DynamoDB through the gateway endpoint (managed prefix list)',
        ipProtocol: 'tcp', fromPort: 443, toPort: 443,
        prefixListId: props.dynamodbPrefixListId,
      });
      new VpcSecurityGroupIngressRule(this, `endpoints-from-${k}`, {
        securityGroupId: this.endpoint.id,
        description: `HTTPS from ${labels[key]}`,
        ipProtocol: 'tcp', fromPort: 443, toPort: 443,
        referencedSecurityGroupId: workload.id,
      });
    }
    new VpcSecurityGroupEgressRule(this, 'reporting-lambda-to-database', {
      securityGroupId: this.workloads.reportingLambda.id,
      description: 'MySQL to the reporting database',
      ipProtocol: 'tcp', fromPort: 3306, toPort: 3306,
      referencedSecurityGroupId: this.database.id,
    });
    new VpcSecurityGroupIngressRule(this, 'database-from-reporting-lambda', {
      securityGroupId: this.database.id,
      description: 'MySQL from reporting Lambdas only',
      ipProtocol: 'tcp', fromPort: 3306, toPort: 3306,
      referencedSecurityGroupId: this.workloads.reportingLambda.id,
    });
  }
}
