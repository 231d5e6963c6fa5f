/**
 * Network stack, create mode: private-only VPC, NACLs, deny-by-default SGs, endpoints, flow logs.
 * The platform is synthesized once for the whole file.
 */
import { resources, synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';
import { INTERFACE_ENDPOINT_SERVICES, PlatformEndpoints } from '../../stacks/network/endpoints';
import { PrivateTopology, subnetCidr } from '../../stacks/network/topology';
import { VpcFlowLogs } from '../../stacks/network/flow-logs';
import { PARTITION } from '../../test-support/terraform-json';
import { platformScope } from '../../test-support/platform-scope';

type R = Record<string, unknown>;
const { tf, json, platform } = synthPlatform(testConfig());
const net: TfJson = tf.network;
const ref = (type: string, logicalId: string, attr = 'id') => `\${${type}.${logicalId}.${attr}}`;
const idOf = (type: string, pred: (r: R) => boolean): string => {
  const hits = Object.entries(resources(net, type)).filter(([, r]) => pred(r));
  if (hits.length !== 1) throw new Error(`expected one ${type}, found ${hits.length}`);
  return hits[0][0];
};
const sgId = (name: string) => ref('aws_security_group', idOf('aws_security_group', (r) => r.name === name));
const onlyId = (type: string, kind: 'resource' | 'data' = 'resource') => {
  const ids = Object.keys((kind === 'resource' ? net.resource : net.data)?.[type] ?? {});
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0];
};
const vpcRef = ref('aws_vpc', onlyId('aws_vpc'));
const policyOf = (r: R) => JSON.parse(r.policy as string) as { Statement: R[] };

describe('network stack (create mode)', () => {
  it('creates the VPC with DNS support and hostnames from config', () => {
    expect(json.network).toHaveResourceWithProperties({ tfResourceType: 'aws_vpc' }, {
      cidr_block: '10.0.0.0/16', enable_dns_support: true, enable_dns_hostnames: true,
    });
  });

  it('creates three private /24 subnets, one per AZ, without public IPs', () => {
    const subnets = Object.values(resources(net, 'aws_subnet'));
    expect(subnets.map((s) => s.cidr_block).sort()).toEqual(['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']);
    expect(subnets.map((s) => s.availability_zone).sort()).toEqual([0, 1, 2].map((i) => `\${element(data.aws_availability_zones.${onlyId('aws_availability_zones', 'data')}.names, ${i})}`));
    for (const s of subnets) expect(s.map_public_ip_on_launch).toBe(false);
    // Zones pinned by name (the set never grows when AWS adds a zone), default AZs only, and no state
    // filter that would shift subnets when an AZ is impaired.
    const azs = Object.values(net.data?.aws_availability_zones ?? {})[0];
    expect(azs.filter).toEqual([
      { name: 'zone-name', values: ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
      { name: 'opt-in-status', values: ['opt-in-not-required'] },
    ]);
    expect(azs.state).toBeUndefined();
  });

  it('has no internet path: no IGW, NAT, egress-only IGW, route resources or default route', () => {
    for (const type of ['aws_internet_gateway', 'aws_nat_gateway', 'aws_egress_only_internet_gateway', 'aws_route', 'aws_eip']) {
      expect(resources(net, type)).toEqual({});
    }
    const tables = Object.values(resources(net, 'aws_route_table'));
    expect(tables).toHaveLength(3);
    for (const t of tables) expect(t.route ?? []).toEqual([]);
    // 0.0.0.0/0 appears only in the two NACL rules that carry gateway-endpoint traffic.
    const { aws_network_acl_rule: _nacl, ...others } = net.resource ?? {};
    expect(JSON.stringify(others)).not.toContain('0.0.0.0/0');
    expect(JSON.stringify(net.data ?? {})).not.toContain('0.0.0.0/0');
    expect(Object.keys(resources(net, 'aws_route_table_association'))).toHaveLength(3);
  });

  it('strips every rule from the default security group', () => {
    const [dsg] = Object.values(resources(net, 'aws_default_security_group'));
    expect(dsg.vpc_id).toBe(vpcRef);
    expect(dsg.ingress).toBeUndefined();
    expect(dsg.egress).toBeUndefined();
  });

  it('NACL on every private subnet allows only 443/3306 inside the VPC, their replies, and HTTPS to the gateway endpoints', () => {
    const [naclId, nacl] = Object.entries(resources(net, 'aws_network_acl'))[0];
    expect((nacl.subnet_ids as string[]).sort()).toEqual(Object.keys(resources(net, 'aws_subnet')).map((k) => ref('aws_subnet', k)).sort());
    const rules = Object.values(resources(net, 'aws_network_acl_rule'))
      .map((r) => ({ n: r.rule_number, egress: r.egress, protocol: r.protocol, cidr: r.cidr_block, from: r.from_port, to: r.to_port, action: r.rule_action, acl: r.network_acl_id }));
    expect(new Set(rules.map((r) => r.acl))).toEqual(new Set([ref('aws_network_acl', naclId)]));
    const vpc = '10.0.0.0/16';
    const any = '0.0.0.0/0';
    const tcp = { protocol: '6', action: 'allow' };
    expect(rules.map(({ acl: _acl, ...r }) => r)).toEqual(expect.arrayContaining([
      { n: 100, egress: false, cidr: vpc, from: 443, to: 443, ...tcp },
      { n: 200, egress: false, cidr: any, from: 1024, to: 65535, ...tcp },
      { n: 100, egress: true, cidr: any, from: 443, to: 443, ...tcp },
      { n: 110, egress: true, cidr: vpc, from: 3306, to: 3306, ...tcp },
      { n: 120, egress: true, cidr: vpc, from: 1024, to: 65535, ...tcp },
    ]));
    expect(rules).toHaveLength(5);
    // Nothing may leave the VPC except HTTPS (the gateway endpoints' public ranges).
    for (const r of rules.filter((x) => x.egress && x.cidr !== vpc)) expect([r.from, r.to]).toEqual([443, 443]);
  });

  it('every security-group rule has the expected source/destination and a description; nothing else exists', () => {
    const ep = sgId('finbatch-dev-endpoints');
    const lambda = sgId('finbatch-dev-lambda');
    const batch = sgId('finbatch-dev-batch');
    const rep = sgId('finbatch-dev-reporting-lambda');
    const db = sgId('finbatch-dev-reporting-db');
    const s3pl = '${data.aws_ec2_managed_prefix_list.s3-prefix-list.id}';
    const ddbpl = '${data.aws_ec2_managed_prefix_list.dynamodb-prefix-list.id}';
    const describe = (dir: string) => (r: R) =>
      `${dir} ${r.security_group_id} ${r.ip_protocol}/${r.from_port}-${r.to_port} ${r.referenced_security_group_id ?? r.prefix_list_id ?? r.cidr_ipv4 ?? r.cidr_ipv6}`;
    const egress = Object.values(resources(net, 'aws_vpc_security_group_egress_rule'));
    const ingress = Object.values(resources(net, 'aws_vpc_security_group_ingress_rule'));
    for (const r of [...egress, ...ingress]) {
      expect(typeof r.description).toBe('string');
      expect((r.description as string).length).toBeGreaterThan(10);
      expect(r.cidr_ipv4).toBeUndefined();
      expect(r.cidr_ipv6).toBeUndefined();
    }
    const expected: string[] = [];
    for (const w of [lambda, batch, rep]) {
      expected.push(`egress ${w} tcp/443-443 ${ep}`, `egress ${w} tcp/443-443 ${s3pl}`, `egress ${w} tcp/443-443 ${ddbpl}`,
        `ingress ${ep} tcp/443-443 ${w}`);
    }
    expected.push(`egress ${rep} tcp/3306-3306 ${db}`, `ingress ${db} tcp/3306-3306 ${rep}`);
    const actual = [...egress.map(describe('egress')), ...ingress.map(describe('ingress'))];
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('security groups have no inline rules (rules are separate resources)', () => {
    for (const sg of Object.values(resources(net, 'aws_security_group'))) {
      expect(sg.ingress).toBeUndefined();
      expect(sg.egress).toBeUndefined();
      expect(sg.vpc_id).toBe(vpcRef);
    }
    expect(Object.keys(resources(net, 'aws_security_group'))).toHaveLength(5);
  });

  it('looks up the S3 and DynamoDB managed prefix lists of the configured region', () => {
    expect(json.network).toHaveDataSourceWithProperties({ tfResourceType: 'aws_ec2_managed_prefix_list' }, { name: 'com.amazonaws.us-east-1.s3' });
    expect(json.network).toHaveDataSourceWithProperties({ tfResourceType: 'aws_ec2_managed_prefix_list' }, { name: 'com.amazonaws.us-east-1.dynamodb' });
  });

  it('creates every interface endpoint with private DNS in all private subnets behind the endpoint SG', () => {
    const eps = Object.values(resources(net, 'aws_vpc_endpoint')).filter((e) => e.vpc_endpoint_type === 'Interface');
    expect(eps.map((e) => e.service_name).sort()).toEqual(INTERFACE_ENDPOINT_SERVICES.map((s) => `com.amazonaws.us-east-1.${s}`).sort());
    expect(INTERFACE_ENDPOINT_SERVICES).toEqual(expect.arrayContaining(['ecr.api', 'ecr.dkr', 'logs', 'monitoring', 'sts', 'kms',
      'sns', 'sqs', 'batch', 'states', 'secretsmanager', 'xray']));
    const subnetRefs = Object.keys(resources(net, 'aws_subnet')).map((k) => ref('aws_subnet', k)).sort();
    for (const e of eps) {
      expect(e.private_dns_enabled).toBe(true);
      expect((e.subnet_ids as string[]).slice().sort()).toEqual(subnetRefs);
      expect(e.security_group_ids).toEqual([sgId('finbatch-dev-endpoints')]);
    }
  });

  it('attaches S3 and DynamoDB gateway endpoints to every private route table with prefix-scoped policies', () => {
    const gws = Object.values(resources(net, 'aws_vpc_endpoint')).filter((e) => e.vpc_endpoint_type === 'Gateway');
    expect(gws.map((g) => g.service_name).sort()).toEqual(['com.amazonaws.us-east-1.dynamodb', 'com.amazonaws.us-east-1.s3']);
    const rtRefs = Object.keys(resources(net, 'aws_route_table')).map((k) => ref('aws_route_table', k)).sort();
    for (const g of gws) expect((g.route_table_ids as string[]).slice().sort()).toEqual(rtRefs);
    const s3 = policyOf(gws.find((g) => (g.service_name as string).endsWith('.s3'))!);
    expect(s3.Statement).toEqual([
      expect.objectContaining({ Sid: 'PlatformBucketsOnly', Action: 's3:*', Resource: [`arn:${PARTITION}:s3:::finbatch-dev-*`, `arn:${PARTITION}:s3:::finbatch-dev-*/*`],
        Condition: { StringEquals: { 'aws:PrincipalAccount': '${data.aws_caller_identity.caller.account_id}' } } }),
      expect.objectContaining({ Sid: 'EcrImageLayers', Action: 's3:GetObject', Resource: `arn:${PARTITION}:s3:::prod-us-east-1-starport-layer-bucket/*` }),
    ]);
    const ddb = policyOf(gws.find((g) => (g.service_name as string).endsWith('.dynamodb'))!);
    expect(ddb.Statement).toEqual([expect.objectContaining({
      Sid: 'PlatformTablesOnly',
      Resource: [`arn:${PARTITION}:dynamodb:us-east-1:\${data.aws_caller_identity.caller.account_id}:table/finbatch-dev-*`],
    })]);
  });

  it('flow logs capture ALL traffic into a KMS-encrypted log group kept >= 365 days', () => {
    const [fl] = Object.values(resources(net, 'aws_flow_log'));
    const [lgId, lg] = Object.entries(resources(net, 'aws_cloudwatch_log_group'))[0];
    const [keyId, key] = Object.entries(resources(net, 'aws_kms_key'))[0];
    expect(fl).toMatchObject({ traffic_type: 'ALL', log_destination_type: 'cloud-watch-logs', vpc_id: vpcRef,
      log_destination: ref('aws_cloudwatch_log_group', lgId, 'arn') });
    expect(lg).toMatchObject({ name: '/aws/vpc/finbatch-dev-flowlogs', retention_in_days: 365, kms_key_id: ref('aws_kms_key', keyId, 'arn') });
    expect(key.enable_key_rotation).toBe(true);
    const logsStmt = policyOf(key).Statement.find((s) => s.Sid === 'CloudWatchLogsUse')!;
    expect(logsStmt.Principal).toEqual({ Service: 'logs.us-east-1.amazonaws.com' });
    expect(logsStmt.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${PARTITION}:logs:us-east-1:\${data.aws_caller_identity.caller.account_id}:*` } });
  });

  it('the flow-log role is assumable only by this account\'s flow logs and writes only to its group', () => {
    const [roleId, role] = Object.entries(resources(net, 'aws_iam_role'))[0];
    const trust = JSON.parse(role.assume_role_policy as string).Statement[0];
    expect(trust.Principal).toEqual({ Service: 'vpc-flow-logs.amazonaws.com' });
    expect(trust.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.caller.account_id}' },
      ArnLike: { 'aws:SourceArn': `arn:${PARTITION}:ec2:us-east-1:\${data.aws_caller_identity.caller.account_id}:vpc-flow-log/*` },
    });
    const [fl] = Object.values(resources(net, 'aws_flow_log'));
    expect(fl.iam_role_arn).toBe(ref('aws_iam_role', roleId, 'arn'));
    const [policy] = Object.values(resources(net, 'aws_iam_role_policy'));
    const lgArn = ref('aws_cloudwatch_log_group', Object.keys(resources(net, 'aws_cloudwatch_log_group'))[0], 'arn');
    const statements = policyOf(policy).Statement;
    expect(statements.find((s) => s.Sid === 'WriteOwnLogGroupOnly')!.Resource).toEqual([lgArn, `${lgArn}:log-stream:*`]);
    // Only DescribeLogGroups (no resource-level permissions in AWS) is on "*".
    for (const s of statements) expect(s.Resource === '*' ? s.Action : 'scoped').toEqual(s.Resource === '*' ? 'logs:DescribeLogGroups' : 'scoped');
    expect(statements.filter((s) => s.Resource === '*')).toHaveLength(1);
  });

  it('exposes the contract fields and operator outputs', () => {
    for (const f of ['vpcId', 'vpcCidr', 'lambdaSecurityGroupId', 'batchSecurityGroupId', 'reportingLambdaSecurityGroupId',
      'databaseSecurityGroupId', 'endpointSecurityGroupId', 's3GatewayEndpointId', 'dynamodbGatewayEndpointId'] as const) {
      expect(typeof platform.network[f]).toBe('string');
    }
    expect(platform.network.privateSubnetIds).toHaveLength(3);
    expect(platform.network.routeTableIds).toHaveLength(3);
    expect(Object.keys(net.output ?? {})).toEqual(expect.arrayContaining(['vpc_id', 'vpc_cidr', 'private_subnet_ids', 'route_table_ids',
      'security_group_ids', 'prefix_list_ids', 'gateway_endpoint_ids', 'interface_endpoint_ids', 'flow_log_group']));
  });
});

describe('network constructs reject bad props', () => {
  // Parts read account, region and naming from their platform stack.
  const scope = () => platformScope();

  it('subnetCidr computes literal subnets and names the rule it breaks', () => {
    expect(subnetCidr('10.0.0.0/16', 8, 3)).toBe('10.0.3.0/24');
    expect(subnetCidr('172.16.32.0/20', 4, 15)).toBe('172.16.47.0/24');
    expect(() => subnetCidr('10.0.0.0/24', 8, 1)).toThrow(/\/32 is smaller than AWS's minimum subnet \/28/);
    expect(() => subnetCidr('10.0.0.0/16', 8, 256)).toThrow(/index 256 must be 0-255/);
    expect(() => subnetCidr('10.0.0.300/16', 8, 1)).toThrow(/must be an IPv4 CIDR/);
  });

  it('PrivateTopology rejects an AZ count outside 2-3', () => {
    expect(() => new PrivateTopology(scope(), 't', { cidr: '10.0.0.0/16', azCount: 4, zoneNames: [] })).toThrow(/azCount must be 2-3/);
    expect(() => new PrivateTopology(scope(), 't', { cidr: '10.0.0.0/16', azCount: 3, zoneNames: ['us-east-1a'] }))
      .toThrow(/zoneNames must list azCount \(3\) zones, got 1/);
  });

  it('PlatformEndpoints rejects too few subnets, no route tables and a bad name prefix', () => {
    const base = { vpcId: 'vpc-1', namePrefix: 'finbatch-dev-', routeTableIds: ['rtb-1'], subnetIds: ['subnet-1', 'subnet-2'], endpointSecurityGroupId: 'sg-1' };
    expect(() => new PlatformEndpoints(scope(), 'e', { ...base, subnetIds: ['subnet-1'] })).toThrow(/subnetIds must list at least 2/);
    expect(() => new PlatformEndpoints(scope(), 'e', { ...base, routeTableIds: [] })).toThrow(/routeTableIds must not be empty/);
    expect(() => new PlatformEndpoints(scope(), 'e', { ...base, namePrefix: 'Fin*' })).toThrow(/namePrefix "Fin\*" must be/);
  });

  it('VpcFlowLogs rejects retention under 365 days', () => {
    expect(() => new VpcFlowLogs(scope(), 'f', { vpcId: 'vpc-1', retentionDays: 90 }))
      .toThrow(/retentionDays must be at least 365/);
  });
});
