/**
 * Network stack, existing mode: an adopted VPC gets endpoints, SGs and flow logs, and nothing of
 * its topology (VPC, subnets, route tables, NACLs, default SG) is created or changed.
 */
import { parseConfig } from '../../stacks/config';
import { rawConfig, resources, synthPlatform } from '../../test-support/config-fixture';
import { INTERFACE_ENDPOINT_SERVICES } from '../../stacks/network/endpoints';

const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'];
const ROUTE_TABLES = ['rtb-0bbbbbbbbbbbbbbb1', 'rtb-0bbbbbbbbbbbbbbb2'];

function existingConfig(network: Record<string, unknown>) {
  // testConfig deep-merges, which would keep create-mode fields; replace the network block instead.
  return parseConfig({ ...rawConfig(), network }, 'test:existing');
}

const { tf, platform } = synthPlatform(existingConfig({
  mode: 'existing', vpcId: VPC, vpcCidr: '10.20.0.0/16', subnetIds: SUBNETS, routeTableIds: ROUTE_TABLES,
}));
const net = tf.network;

describe('network stack (existing mode)', () => {
  it('creates no VPC topology of its own', () => {
    for (const type of ['aws_vpc', 'aws_subnet', 'aws_route_table', 'aws_route_table_association', 'aws_network_acl',
      'aws_network_acl_rule', 'aws_default_security_group', 'aws_internet_gateway', 'aws_nat_gateway', 'aws_route']) {
      expect(resources(net, type)).toEqual({});
    }
  });

  it('adopts the configured ids and exposes them unchanged', () => {
    expect(platform.network.vpcId).toBe(VPC);
    expect(platform.network.vpcCidr).toBe('10.20.0.0/16');
    expect(platform.network.privateSubnetIds).toEqual(SUBNETS);
    expect(platform.network.routeTableIds).toEqual(ROUTE_TABLES);
    expect(net.output?.vpc_id.value).toBe(VPC);
    expect(net.output?.private_subnet_ids.value).toEqual(SUBNETS);
  });

  it('still adds the five security groups with all their rules in the adopted VPC', () => {
    const sgs = Object.values(resources(net, 'aws_security_group'));
    expect(sgs).toHaveLength(5);
    for (const sg of sgs) expect(sg.vpc_id).toBe(VPC);
    expect(Object.keys(resources(net, 'aws_vpc_security_group_egress_rule'))).toHaveLength(10);
    expect(Object.keys(resources(net, 'aws_vpc_security_group_ingress_rule'))).toHaveLength(4);
  });

  it('still adds every endpoint on the adopted subnets and route tables', () => {
    const eps = Object.values(resources(net, 'aws_vpc_endpoint'));
    expect(eps).toHaveLength(INTERFACE_ENDPOINT_SERVICES.length + 2);
    for (const e of eps) {
      expect(e.vpc_id).toBe(VPC);
      if (e.vpc_endpoint_type === 'Gateway') expect(e.route_table_ids).toEqual(ROUTE_TABLES);
      else {
        expect(e.private_dns_enabled).toBe(true);
        expect(e.subnet_ids).toEqual(SUBNETS);
      }
    }
  });

  it('still adds encrypted flow logs for the adopted VPC', () => {
    const [fl] = Object.values(resources(net, 'aws_flow_log'));
    expect(fl).toMatchObject({ vpc_id: VPC, traffic_type: 'ALL' });
    const [lg] = Object.values(resources(net, 'aws_cloudwatch_log_group'));
    expect(lg.kms_key_id).toMatch(/^\$\{aws_kms_key\..+\.arn\}$/);
  });

  it('rejects invalid adopted ids with the field named', () => {
    expect(() => existingConfig({ mode: 'existing', vpcId: 'vpc-XYZ', vpcCidr: '10.20.0.0/16', subnetIds: SUBNETS, routeTableIds: ROUTE_TABLES }))
      .toThrow(/network\.vpcId: must match \^vpc-/);
    expect(() => existingConfig({ mode: 'existing', vpcId: VPC, vpcCidr: '10.20.0.0/16', subnetIds: [SUBNETS[0]], routeTableIds: ROUTE_TABLES }))
      .toThrow(/network\.subnetIds: must list at least 2 private subnets/);
    expect(() => existingConfig({ mode: 'existing', vpcId: VPC, vpcCidr: '10.20.0.0/16', subnetIds: SUBNETS, routeTableIds: [] }))
      .toThrow(/network\.routeTableIds: must list at least 1 route table/);
  });
});
