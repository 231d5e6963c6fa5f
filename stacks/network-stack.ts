import { Construct } from 'constructs';
import { Fn, TerraformOutput } from 'cdktf';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';

/**
 * Private-only network: a VPC across up to three AZs (or an adopted one), no internet path, VPC
 * endpoints for every AWS API the workloads call, deny-by-default security groups and flow logs.
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

  constructor(scope: Construct, id: string, cfg: PlatformConfig) {
    super(scope, id, cfg);
    const net = cfg.network;
    if (net.mode === 'create') {
      const azs = new DataAwsAvailabilityZones(this, 'azs', { state: 'available' });
      const vpc = new Vpc(this, 'vpc', {
        cidrBlock: net.cidr,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: { Name: this.name('vpc') },
      });
      this.vpcId = vpc.id;
      this.vpcCidr = net.cidr;
      const subnets = Array.from({ length: net.azCount }, (_, i) => new Subnet(this, `private-${i}`, {
        vpcId: vpc.id,
        cidrBlock: Fn.cidrsubnet(net.cidr, 8, i + 1),
        availabilityZone: Fn.element(azs.names, i),
        mapPublicIpOnLaunch: false,
        tags: { Name: this.name(`private-${i}`), Tier: 'private' },
      }));
      this.privateSubnetIds = subnets.map((s) => s.id);
      // One route table per AZ, no default route: the only paths out are the VPC endpoints.
      this.routeTableIds = subnets.map((s, i) => {
        const rt = new RouteTable(this, `private-rt-${i}`, { vpcId: vpc.id, tags: { Name: this.name(`private-${i}`) } });
        new RouteTableAssociation(this, `private-rta-${i}`, { subnetId: s.id, routeTableId: rt.id });
        return rt.id;
      });
    } else {
      this.vpcId = net.vpcId;
      this.vpcCidr = net.vpcCidr;
      this.privateSubnetIds = [...net.subnetIds];
      this.routeTableIds = [...net.routeTableIds];
    }
    const sg = (sgId: string, purpose: string, description: string) => new SecurityGroup(this, sgId, {
      name: this.name(purpose),
      description,
      vpcId: this.vpcId,
      tags: { Name: this.name(purpose) },
    }).id;
    this.endpointSecurityGroupId = sg('endpoint-sg', 'endpoints', 'Interface endpoints: ingress 443 from workload SGs only');
    this.lambdaSecurityGroupId = sg('lambda-sg', 'lambda', 'Compute Lambdas: no ingress; egress 443 to endpoints and prefix lists');
    this.batchSecurityGroupId = sg('batch-sg', 'batch', 'Batch tasks: no ingress; egress 443 to endpoints and prefix lists');
    this.reportingLambdaSecurityGroupId = sg('reporting-lambda-sg', 'reporting-lambda', 'Reporting Lambdas: no ingress; egress 443 + 3306 to the DB');
    this.databaseSecurityGroupId = sg('database-sg', 'reporting-db', 'Reporting database: ingress 3306 from reporting Lambdas only');

    const s3 = new VpcEndpoint(this, 's3-endpoint', {
      vpcId: this.vpcId,
      serviceName: `com.amazonaws.${this.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: this.routeTableIds,
      tags: { Name: this.name('s3') },
    });
    this.s3GatewayEndpointId = s3.id;

    new TerraformOutput(this, 'vpc_id', { value: this.vpcId, description: 'VPC id' });
    new TerraformOutput(this, 'private_subnet_ids', { value: this.privateSubnetIds, description: 'Private subnet ids' });
  }
}
