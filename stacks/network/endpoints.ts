import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { PolicyStatement, renderPolicy } from '../constructs/policy';

/**
 * AWS APIs the in-VPC workloads call, each reached through an interface endpoint with private DNS:
 * Fargate pulls images (ecr.api, ecr.dkr; layers come from S3) and ships logs (logs); handlers emit
 * metrics (monitoring), resolve SDK credential flows that go through STS (sts), decrypt (kms),
 * notify (sns), use queues/DLQs (sqs), submit/describe jobs (batch), start/report executions
 * (states), read the DB secret (secretsmanager) and trace (xray).
 * Not here: rds-data (Aurora is reached over 3306, not the Data API) and SES, which has no API
 * endpoint at all: report delivery runs in a Lambda outside the VPC (see the contracts).
 */
export const INTERFACE_ENDPOINT_SERVICES = [
  'ecr.api', 'ecr.dkr', 'logs', 'monitoring', 'sts', 'kms', 'sns', 'sqs', 'batch', 'states', 'secretsmanager', 'xray',
] as const;
export type InterfaceEndpointService = (typeof INTERFACE_ENDPOINT_SERVICES)[number];

export interface PlatformEndpointsProps {
  readonly vpcId: string;
  /** `${project}-${env}-`: every platform bucket and table name starts with it. */
  readonly namePrefix: string;
  readonly routeTableIds: string[];
  readonly subnetIds: string[];
  readonly endpointSecurityGroupId: string;
}

/** Gateway endpoint policy for S3: only the platform's buckets, plus the ECR layer bucket. */
export function s3EndpointStatements(region: string, accountId: string, namePrefix: string, partition: string): PolicyStatement[] {
  return [
    {
      Sid: 'PlatformBucketsOnly',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:*',
      Resource: [`arn:${partition}:s3:::${namePrefix}*`, `arn:${partition}:s3:::${namePrefix}*/*`],
      Condition: { StringEquals: { 'aws:PrincipalAccount': accountId } },
    },
    {
      // Fargate pulls image layers from this AWS-owned bucket through the S3 gateway endpoint (ECR
      // only serves the manifest); without it Batch jobs fail with CannotPullContainerError.
      Sid: 'EcrImageLayers',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:${partition}:s3:::prod-${region}-starport-layer-bucket/*`,
    },
  ];
}

/** Gateway endpoint policy for DynamoDB: only the platform's tables (and their indexes/streams). */
export function dynamodbEndpointStatements(region: string, accountId: string, namePrefix: string, partition: string): PolicyStatement[] {
  return [{
    Sid: 'PlatformTablesOnly',
    Effect: 'Allow',
    Principal: '*',
    Action: 'dynamodb:*',
    Resource: [
      `arn:${partition}:dynamodb:${region}:${accountId}:table/${namePrefix}*`,
    ],
    Condition: { StringEquals: { 'aws:PrincipalAccount': accountId } },
  }];
}

/**
 * S3 and DynamoDB gateway endpoints on every private route table, with policies limited to the
 * platform's own resources by name prefix, and one interface endpoint (private DNS, endpoint SG,
 * every private subnet) per service in INTERFACE_ENDPOINT_SERVICES.
 */
export class PlatformEndpoints extends PlatformPart {
  readonly s3: VpcEndpoint;
  readonly dynamodb: VpcEndpoint;
  readonly interfaces: Record<InterfaceEndpointService, VpcEndpoint>;

  constructor(scope: Construct, id: string, props: PlatformEndpointsProps) {
    super(scope, id, { keepIdInAddresses: true });
    if (props.routeTableIds.length === 0) throw new Error(`PlatformEndpoints ${id}: routeTableIds must not be empty`);
    if (props.subnetIds.length < 2) throw new Error(`PlatformEndpoints ${id}: subnetIds must list at least 2 subnets (AZ redundancy)`);
    if (!/^[a-z0-9-]+-$/.test(props.namePrefix)) {
      throw new Error(`PlatformEndpoints ${id}: namePrefix "${props.namePrefix}" must be [a-z0-9-] ending in "-"`);
    }
    const gateway = (gwId: string, service: string, statements: PolicyStatement[]) => new VpcEndpoint(this, gwId, {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${this.platform.region}.${service}`,
      vpcEndpointType: 'Gateway',
      routeTableIds: props.routeTableIds,
      policy: renderPolicy(statements),
      tags: { Name: this.platform.name(service) },
    });
    this.s3 = gateway('s3-endpoint', 's3', s3EndpointStatements(this.platform.region, this.platform.accountId, props.namePrefix, this.platform.partition));
    this.dynamodb = gateway('dynamodb-endpoint', 'dynamodb',
      dynamodbEndpointStatements(this.platform.region, this.platform.accountId, props.namePrefix, this.platform.partition));

    const interfaces = {} as Record<InterfaceEndpointService, VpcEndpoint>;
    for (const service of INTERFACE_ENDPOINT_SERVICES) {
      interfaces[service] = new VpcEndpoint(this, `${service.replace('.', '-')}-endpoint`, {
        vpcId: props.vpcId,
        serviceName: `com.amazonaws.${this.platform.region}.${service}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: props.subnetIds,
        securityGroupIds: [props.endpointSecurityGroupId],
        tags: { Name: this.platform.name(service.replace('.', '-')) },
      });
    }
    this.interfaces = interfaces;
  }
}
