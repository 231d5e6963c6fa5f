import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { DataAwsEc2ManagedPrefixList } from '@cdktf/provider-aws/lib/data-aws-ec2-managed-prefix-list';
import { PlatformConfig, zoneNamesOf } from './config';
import { PlatformStack } from './platform-stack';
import { PrivateTopology } from './network/topology';
import { PlatformSecurityGroups } from './network/security-groups';
import { INTERFACE_ENDPOINT_SERVICES, InterfaceEndpointService, PlatformEndpoints } from './network/endpoints';
import { VpcFlowLogs } from './network/flow-logs';

/**
 * Private-only network: a VPC across up to three AZs (or an adopted one), no internet path, VPC
 * endpoints for every AWS API the workloads call, deny-by-default security groups and flow logs.
 * In "existing" mode the VPC, subnets, route tables (and their NACLs and default SG) belong to
 * someone else: only endpoints, security groups and flow logs are added to them.
 */
export class NetworkStack extends PlatformStack {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly privateSubnetIds: string[];
  readonly routeTableIds: string[];
  /** Compute-stack Lambdas (orchestrator, ingest, job events). */
  readonly lambdaSecurityGroupId: string;
  /** Batch Fargate tasks. */
  readonly batchSecurityGroupId: string;
  /** Reporting Lambdas: the only source allowed into the database SG. */
  readonly reportingLambdaSecurityGroupId: string;
  readonly databaseSecurityGroupId: string;
  readonly endpointSecurityGroupId: string;
  readonly s3GatewayEndpointId: string;
  readonly dynamodbGatewayEndpointId: string;
  /** AWS-managed prefix lists of S3 and DynamoDB in this region (targets of the workload egress rules). */
  readonly s3PrefixListId: string;
  readonly dynamodbPrefixListId: string;
  readonly interfaceEndpointIds: Record<InterfaceEndpointService, string>;
  readonly flowLogGroupName: string;

  constructor(scope: Construct, id: string, cfg: PlatformConfig) {
    super(scope, id, cfg);
    const net = cfg.network;
    if (net.mode === 'create') {
      const topology = new PrivateTopology(this, 'topology', { cidr: net.cidr, azCount: net.azCount, zoneNames: zoneNamesOf(cfg) });
      this.vpcId = topology.vpc.id;
      this.vpcCidr = net.cidr;
      this.privateSubnetIds = topology.subnets.map((s) => s.id);
      this.routeTableIds = topology.routeTables.map((rt) => rt.id);
    } else {
      // Ids were validated by the config schema (vpc-/subnet-/rtb- formats, >= 2 subnets, >= 1 table).
      this.vpcId = net.vpcId;
      this.vpcCidr = net.vpcCidr;
      this.privateSubnetIds = [...net.subnetIds];
      this.routeTableIds = [...net.routeTableIds];
    }

    const prefixList = (plId: string, service: string) => new DataAwsEc2ManagedPrefixList(this, plId, {
      name: `com.amazonaws.${this.region}.${service}`,
    }).id;
    this.s3PrefixListId = prefixList('s3-prefix-list', 's3');
    this.dynamodbPrefixListId = prefixList('dynamodb-prefix-list', 'dynamodb');

    const sgs = new PlatformSecurityGroups(this, 'security-groups', {
      vpcId: this.vpcId,
      s3PrefixListId: this.s3PrefixListId,
      dynamodbPrefixListId: this.dynamodbPrefixListId,
    });
    this.endpointSecurityGroupId = sgs.endpoint.id;
    this.lambdaSecurityGroupId = sgs.workloads.lambda.id;
    this.batchSecurityGroupId = sgs.workloads.batch.id;
    this.reportingLambdaSecurityGroupId = sgs.workloads.reportingLambda.id;
    this.databaseSecurityGroupId = sgs.database.id;

    const endpoints = new PlatformEndpoints(this, 'endpoints', {
      vpcId: this.vpcId,
      namePrefix: `${cfg.project}-${cfg.environment}-`,
      routeTableIds: this.routeTableIds,
      subnetIds: this.privateSubnetIds,
      endpointSecurityGroupId: this.endpointSecurityGroupId,
    });
    this.s3GatewayEndpointId = endpoints.s3.id;
    this.dynamodbGatewayEndpointId = endpoints.dynamodb.id;
    this.interfaceEndpointIds = Object.fromEntries(
      INTERFACE_ENDPOINT_SERVICES.map((s) => [s, endpoints.interfaces[s].id]),
    ) as Record<InterfaceEndpointService, string>;

    const flowLogs = new VpcFlowLogs(this, 'flow-logs', {
      vpcId: this.vpcId,
      retentionDays: cfg.retention.logDays,
    });
    this.flowLogGroupName = flowLogs.logGroup.name;

    const out = (outId: string, value: unknown, description: string) => new TerraformOutput(this, outId, { value, description });
    out('vpc_id', this.vpcId, 'VPC id');
    out('vpc_cidr', this.vpcCidr, 'VPC CIDR');
    out('private_subnet_ids', this.privateSubnetIds, 'Private subnet ids (one per AZ)');
    out('route_table_ids', this.routeTableIds, 'Private route table ids (gateway endpoints attached)');
    out('security_group_ids', {
      endpoints: this.endpointSecurityGroupId,
      lambda: this.lambdaSecurityGroupId,
      batch: this.batchSecurityGroupId,
      reporting_lambda: this.reportingLambdaSecurityGroupId,
      database: this.databaseSecurityGroupId,
    }, 'Security group ids by workload');
    out('prefix_list_ids', { s3: this.s3PrefixListId, dynamodb: this.dynamodbPrefixListId }, 'Managed prefix lists of the gateway endpoints');
    out('gateway_endpoint_ids', { s3: this.s3GatewayEndpointId, dynamodb: this.dynamodbGatewayEndpointId }, 'Gateway endpoint ids');
    out('interface_endpoint_ids', this.interfaceEndpointIds, 'Interface endpoint ids by service');
    out('flow_log_group', this.flowLogGroupName, 'Flow-log CloudWatch log group');
  }
}
