import * as sdk from '@aws-sdk/client-ec2';
import { SubnetState, VpcCidrBlockStateCode, VpcState } from '@aws-sdk/client-ec2';
import type {
  AuthorizeSecurityGroupIngressCommandInput,
  AuthorizeSecurityGroupIngressCommandOutput,
  DescribeSecurityGroupRulesCommandInput,
  DescribeSecurityGroupRulesCommandOutput,
  DescribeSubnetsCommandInput,
  DescribeSubnetsCommandOutput,
  DescribeVpcsCommandInput,
  DescribeVpcsCommandOutput,
  Filter,
  IpPermission,
  RevokeSecurityGroupIngressCommandInput,
  RevokeSecurityGroupIngressCommandOutput,
  SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import { filteredPage, type PageRange } from '../paging';
import type { NetworkSeed } from '../seed';
import { type Answer, type SandboxService, type SdkExceptions, sdkError } from '../service';

const exceptions = { base: sdk.EC2ServiceException, module: sdk } satisfies SdkExceptions;
/** The error ec2 answers `name` with (see {@link sdkError}). */
const ec2Error = (name: string, message: string) => sdkError(exceptions, name, message);

type Rule = NetworkSeed['securityGroupRules'][number];

/**
 * Page sizes, from the EC2 service model (botocore ec2/2016-11-15/service-2.json): MaxResults 5-1000
 * for DescribeSubnets and DescribeSecurityGroupRules. Without MaxResults EC2 answers every item in
 * one page ("If this parameter is not specified, then all items are returned", the model's
 * DescribeSecurityGroupRules doc), so `fallback` is unused.
 */
const EC2_PAGE: PageRange = { member: 'maxResults', min: 5, max: 1000, fallback: Number.POSITIVE_INFINITY };

/**
 * EC2's answer to a MaxResults outside the model: `InvalidParameterValue: Value ( 1 ) for parameter
 * maxResults is invalid. Expecting a value greater than 5.` (aws/aws-sdk-ruby#2575; the message for
 * a value above the maximum is written the same way).
 */
function ec2PageSize(asked: unknown): number {
  if (asked === undefined || asked === null) return EC2_PAGE.fallback;
  const size = Number(asked);
  if (Number.isInteger(size) && size >= EC2_PAGE.min && size <= EC2_PAGE.max) return size;
  const expecting = size < EC2_PAGE.min ? `greater than ${EC2_PAGE.min}` : `less than ${EC2_PAGE.max}`;
  throw ec2Error(
    'InvalidParameterValue',
    `Value ( ${String(asked)} ) for parameter maxResults is invalid. Expecting a value ${expecting}.`,
  );
}

/** A token the sandbox never gave. EC2's own name for it is not documented; InvalidParameterValue is EC2's error for a bad parameter value. */
const badToken = () => ec2Error('InvalidParameterValue', 'Invalid value for parameter nextToken.');

/** EC2 refuses a filter name the action does not know: "The filter 'tag:Name' is invalid" (aws/aws-cli#7225). */
function checkFilterNames(filters: Filter[], known: (name: string) => boolean): void {
  const unknown = filters.find((f) => !known(f.Name ?? ''));
  if (unknown) throw ec2Error('InvalidParameterValue', `The filter '${String(unknown.Name)}' is invalid`);
}

/** What the seed declares for EC2: the VPCs and subnets (security-group rules are in `network`). */
const ec2Seed = {
  vpcs: z.array(z.object({ id: z.string(), cidrs: z.array(z.string()) })),
  subnets: z.array(z.object({ id: z.string(), vpcId: z.string(), availabilityZone: z.string() })).default([]),
};

/**
 * The rule an IpPermission asks for from one of its IPv4 ranges, as the network state keeps it:
 * VPC security groups need a protocol ("InvalidParameterValue: Invalid value 'null' for protocol.
 * VPC security group rules must specify protocols explicitly.", nanovms/ops#735); the sandbox
 * keeps rules with ports and an IPv4 range only.
 */
function requestedRule(p: IpPermission, cidr: string | undefined): Omit<Rule, 'id' | 'groupId' | 'tags'> {
  if (p.IpProtocol === undefined) {
    throw ec2Error(
      'InvalidParameterValue',
      "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.",
    );
  }
  if (p.FromPort === undefined || p.ToPort === undefined || cidr === undefined) {
    throw new SandboxNotImplementedError(
      'The sandbox authorizes ec2:AuthorizeSecurityGroupIngress rules with FromPort, ToPort and an IPv4 CidrIp only.',
      'Give each IpPermission its ports and IpRanges, or add the rest to lib/sandbox/services/ec2.ts.',
    );
  }
  return { isEgress: false, protocol: p.IpProtocol, fromPort: p.FromPort, toPort: p.ToPort, cidr };
}

export const ec2Commands = {
  DescribeVpcs(estate: SandboxEstate, input: DescribeVpcsCommandInput): Answer<DescribeVpcsCommandOutput> {
    const ids = input.VpcIds ?? estate.seed.vpcs.map((v) => v.id);
    const missing = ids.find((id) => !estate.seed.vpcs.some((v) => v.id === id));
    if (missing) throw ec2Error('InvalidVpcID.NotFound', `The vpc ID '${missing}' does not exist`);
    return {
      Vpcs: estate.seed.vpcs
        .filter((v) => ids.includes(v.id))
        .map((v) => ({
          VpcId: v.id,
          CidrBlock: v.cidrs[0],
          CidrBlockAssociationSet: v.cidrs.map((cidr, i) => ({
            AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}${i}`,
            CidrBlock: cidr,
            CidrBlockState: { State: VpcCidrBlockStateCode.associated },
          })),
          State: VpcState.available,
        })),
    };
  },

  DescribeSubnets(estate: SandboxEstate, input: DescribeSubnetsCommandInput): Answer<DescribeSubnetsCommandOutput> {
    if ((input.Filters ?? []).length) {
      throw new SandboxNotImplementedError(
        'The sandbox does not filter ec2:DescribeSubnets.',
        'Ask by SubnetIds, or add the filter to lib/sandbox/services/ec2.ts.',
      );
    }
    const size = ec2PageSize(input.MaxResults);
    const ids = input.SubnetIds ?? estate.seed.subnets.map((s) => s.id);
    const missing = ids.find((id) => !estate.seed.subnets.some((s) => s.id === id));
    if (missing) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${missing}' does not exist`);
    const { page, next } = filteredPage(
      estate.seed.subnets.filter((s) => ids.includes(s.id)),
      () => true,
      { token: input.NextToken, size, badToken },
    );
    return {
      NextToken: next,
      Subnets: page.map((s) => ({
        SubnetId: s.id,
        VpcId: s.vpcId,
        AvailabilityZone: s.availabilityZone,
        State: SubnetState.available,
      })),
    };
  },

  DescribeSecurityGroupRules(
    estate: SandboxEstate,
    input: DescribeSecurityGroupRulesCommandInput,
  ): Answer<DescribeSecurityGroupRulesCommandOutput> {
    if (input.SecurityGroupRuleIds !== undefined) {
      throw new SandboxNotImplementedError(
        'The sandbox does not take SecurityGroupRuleIds in ec2:DescribeSecurityGroupRules.',
        'Filter by group-id or security-group-rule-id, or add it to lib/sandbox/services/ec2.ts.',
      );
    }
    // The filters the model documents: group-id, security-group-rule-id, tag:<key>. Filters AND,
    // a filter's values OR.
    const filters = input.Filters ?? [];
    checkFilterNames(
      filters,
      (name) => ['group-id', 'security-group-rule-id'].includes(name) || name.startsWith('tag:'),
    );
    const size = ec2PageSize(input.MaxResults);
    const matches = (f: Filter, r: Rule) => {
      const values = f.Values ?? [];
      if (f.Name === 'group-id') return values.includes(r.groupId);
      if (f.Name === 'security-group-rule-id') return values.includes(r.id);
      return (r.tags ?? []).some((t) => t.Key === f.Name?.slice(4) && values.includes(t.Value));
    };
    // With MaxResults, EC2 pages first and filters each page (aws/aws-sdk-js#940).
    const { page, next } = filteredPage(
      estate.state.network.securityGroupRules,
      (r) => filters.every((f) => matches(f, r)),
      { token: input.NextToken, size, badToken },
    );
    return {
      NextToken: next,
      SecurityGroupRules: page.map((r) => ({
        SecurityGroupRuleId: r.id,
        GroupId: r.groupId,
        IsEgress: r.isEgress,
        IpProtocol: r.protocol,
        FromPort: r.fromPort,
        ToPort: r.toPort,
        CidrIpv4: r.cidr,
        Tags: r.tags,
      })),
    };
  },

  AuthorizeSecurityGroupIngress(
    estate: SandboxEstate,
    input: AuthorizeSecurityGroupIngressCommandInput,
  ): Answer<AuthorizeSecurityGroupIngressCommandOutput> {
    const groupId = String(input.GroupId);
    const rules = estate.state.network.securityGroupRules;
    if (!rules.some((r) => r.groupId === groupId)) {
      throw ec2Error('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
    }
    const tags = (input.TagSpecifications ?? [])
      .flatMap((t) => t.Tags ?? [])
      .map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
    const added: SecurityGroupRule[] = [];
    for (const p of input.IpPermissions ?? []) {
      for (const range of p.IpRanges ?? []) {
        const asked = requestedRule(p, range.CidrIp);
        const same = (r: Rule) =>
          r.groupId === groupId &&
          !r.isEgress &&
          r.protocol === asked.protocol &&
          r.fromPort === asked.fromPort &&
          r.toPort === asked.toPort &&
          r.cidr === asked.cidr;
        if (rules.some(same)) {
          throw ec2Error(
            'InvalidPermission.Duplicate',
            `the specified rule "peer: ${asked.cidr}, TCP, from port: ${asked.fromPort}, to port: ${asked.toPort}, ALLOW" already exists`,
          );
        }
        const rule: Rule = { id: estate.nextId('sgr-', 17), groupId, ...asked, tags };
        rules.push(rule);
        added.push({ SecurityGroupRuleId: rule.id, GroupId: groupId, CidrIpv4: rule.cidr });
      }
    }
    return { Return: true, SecurityGroupRules: added };
  },

  RevokeSecurityGroupIngress(
    estate: SandboxEstate,
    input: RevokeSecurityGroupIngressCommandInput,
  ): Answer<RevokeSecurityGroupIngressCommandOutput> {
    const ids = input.SecurityGroupRuleIds ?? [];
    const rules = estate.state.network.securityGroupRules;
    const missing = ids.find((id) => !rules.some((r) => r.id === id && r.groupId === input.GroupId));
    if (missing)
      throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${missing}' does not exist`);
    estate.state.network.securityGroupRules = rules.filter((r) => !ids.includes(r.id));
    return { Return: true };
  },
};

/** EC2: the VPCs and subnets the clusters live in, from the seed, and the network's security-group rules. */
export const ec2Service = {
  name: 'ec2',
  source: __filename,
  exceptions,
  commands: ec2Commands,
  seed: ec2Seed,
} satisfies SandboxService<typeof ec2Seed>;
