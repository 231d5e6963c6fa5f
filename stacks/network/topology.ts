import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { Fn } from 'cdktf';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { NetworkAcl } from '@cdktf/provider-aws/lib/network-acl';
import { NetworkAclRule } from '@cdktf/provider-aws/lib/network-acl-rule';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';

export interface PrivateTopologyProps {
  readonly cidr: string;
  readonly azCount: number;
  /** The AZ names to use, one per subnet (length = azCount). */
  readonly zoneNames: string[];
}

/**
 * The `index`-th subnet of `cidr` with `newBits` more prefix bits, computed at synth (not with
 * Terraform's cidrsubnet) so the plan and the tests show literal CIDRs.
 */
export function subnetCidr(cidr: string, newBits: number, index: number): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) throw new Error(`subnetCidr: cidr "${cidr}" must be an IPv4 CIDR like 10.0.0.0/16`);
  const prefix = Number(m[5]);
  const length = prefix + newBits;
  if (length > 28) throw new Error(`subnetCidr: /${prefix} + ${newBits} bits = /${length} is smaller than AWS's minimum subnet /28`);
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** newBits) {
    throw new Error(`subnetCidr: index ${index} must be 0-${2 ** newBits - 1} for ${newBits} new bits`);
  }
  const base = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
  const network = base - (base % 2 ** (32 - prefix));
  const start = network + index * 2 ** (32 - length);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join('.')}/${length}`;
}

/** Ephemeral ports Linux, Lambda and Fargate use for the client side of a connection. */
export const EPHEMERAL_PORTS = { from: 1024, to: 65535 } as const;

/**
 * Create-mode topology: a VPC with one private /24 per AZ (10.0.1.0/24, 10.0.2.0/24, ...), one route
 * table per subnet with no default route (no internet or NAT gateway exists at all), the default
 * security group stripped of every rule, and a NACL on the private subnets that admits only the
 * platform's ports inside the VPC (443, 3306, replies) plus the HTTPS path the gateway endpoints need.
 */
export class PrivateTopology extends PlatformPart {
  readonly vpc: Vpc;
  readonly subnets: Subnet[];
  readonly routeTables: RouteTable[];
  readonly networkAcl: NetworkAcl;

  constructor(scope: Construct, id: string, props: PrivateTopologyProps) {
    super(scope, id, { keepIdInAddresses: true });
    if (props.azCount < 2 || props.azCount > 3) {
      throw new Error(`PrivateTopology ${id}: azCount must be 2-3 (one private subnet per AZ), got ${props.azCount}`);
    }
    if (props.zoneNames.length !== props.azCount) {
      throw new Error(`PrivateTopology ${id}: zoneNames must list azCount (${props.azCount}) zones, got ${props.zoneNames.length}`);
    }
    // The zones are pinned by name (config), so the set never grows when AWS adds a zone; the data source
    // still proves at plan time that they exist. Default (non-opt-in) AZs only, never Local/Wavelength
    // zones. No `state = available` filter: an impaired AZ would drop out of the list and shift every
    // later subnet into another AZ (replacement).
    const azs = new DataAwsAvailabilityZones(this, 'azs', {
      filter: [
        { name: 'zone-name', values: [...props.zoneNames].sort() },
        { name: 'opt-in-status', values: ['opt-in-not-required'] },
      ],
    });
    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: props.cidr,
      enableDnsSupport: true,
      // Interface endpoints with private DNS need both DNS attributes on.
      enableDnsHostnames: true,
      tags: { Name: this.platform.name('vpc') },
    });
    // Every rule of the VPC's default SG is revoked: anything launched without an explicit SG
    // gets no connectivity instead of the all-open default (CIS 5.4).
    new DefaultSecurityGroup(this, 'default-sg', { vpcId: this.vpc.id, tags: { Name: this.platform.name('default-locked') } });

    // /24s in a /16 (10.0.1.0/24, 10.0.2.0/24, ...; index 0 left free);
    // in a smaller VPC, as many bits as still leave /28 subnets.
    const newBits = Math.min(8, 28 - Number(props.cidr.split('/')[1]));
    this.subnets = Array.from({ length: props.azCount }, (_, i) => new Subnet(this, `private-${i}`, {
      vpcId: this.vpc.id,
      cidrBlock: subnetCidr(props.cidr, newBits, i + 1),
      availabilityZone: Fn.element(azs.names, i),
      mapPublicIpOnLaunch: false,
      tags: { Name: this.platform.name(`private-${i}`), Tier: 'private' },
    }));
    // One route table per AZ and no default route: the local route and the gateway-endpoint prefix-list
    // routes (added by the endpoints) are the only paths.
    this.routeTables = this.subnets.map((s, i) => {
      const rt = new RouteTable(this, `private-rt-${i}`, { vpcId: this.vpc.id, tags: { Name: this.platform.name(`private-${i}`) } });
      new RouteTableAssociation(this, `private-rta-${i}`, { subnetId: s.id, routeTableId: rt.id });
      return rt;
    });

    this.networkAcl = new NetworkAcl(this, 'private-nacl', {
      vpcId: this.vpc.id,
      subnetIds: this.subnets.map((s) => s.id),
      tags: { Name: this.platform.name('private') },
    });
    // Why 0.0.0.0/0 appears below although nothing may reach the internet: S3 and DynamoDB gateway
    // endpoints are route-table targets for the services' PUBLIC address ranges (the managed prefix
    // lists), so that traffic leaves the VPC CIDR. NACLs cannot reference prefix lists and are
    // stateless, so they must allow 443 out to any address and the ephemeral return ports back in,
    // or every S3/DynamoDB call (and Fargate's image-layer pulls) silently times out. This opens no
    // internet path: the route tables have no default route and the VPC has no IGW/NAT, and the
    // (stateful) security groups admit no unsolicited inbound traffic at all.
    // Inside the VPC only the platform's two service ports are used: 443 (interface endpoints) and
    // 3306 (Aurora; inbound it falls inside the ephemeral range rule 200 already admits), plus the
    // replies on ephemeral ports. DNS (the VPC+2 resolver) and time sync are not subject to NACLs.
    const anywhere = '0.0.0.0/0';
    const rules: { n: number; egress: boolean; cidr: string; from: number; to: number; why: string }[] = [
      { n: 100, egress: false, cidr: props.cidr, from: 443, to: 443, why: 'workloads -> interface endpoints' },
      { n: 200, egress: false, cidr: anywhere, from: EPHEMERAL_PORTS.from, to: EPHEMERAL_PORTS.to, why: 'replies from endpoints, Aurora, S3/DynamoDB' },
      { n: 100, egress: true, cidr: anywhere, from: 443, to: 443, why: 'HTTPS to interface endpoints and S3/DynamoDB gateway endpoints' },
      { n: 110, egress: true, cidr: props.cidr, from: 3306, to: 3306, why: 'reporting Lambdas -> Aurora' },
      { n: 120, egress: true, cidr: props.cidr, from: EPHEMERAL_PORTS.from, to: EPHEMERAL_PORTS.to, why: 'replies of endpoints and Aurora to in-VPC clients' },
    ];
    for (const r of rules) {
      new NetworkAclRule(this, `nacl-${r.egress ? 'out' : 'in'}-${r.n}`, {
        networkAclId: this.networkAcl.id,
        ruleNumber: r.n,
        egress: r.egress,
        protocol: '6', // TCP
        ruleAction: 'allow',
        cidrBlock: r.cidr,
        fromPort: r.from,
        toPort: r.to,
      });
    }
  }
}
