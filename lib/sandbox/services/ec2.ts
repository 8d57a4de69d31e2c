import { awsError, paginate, type ServiceHandlers } from '../estate';

/** EC2: the VPCs the clusters live in, from the seed. */
export const ec2Handlers: ServiceHandlers = {
  DescribeVpcs(estate, input) {
    const ids = (input.VpcIds as string[] | undefined) ?? estate.seed.vpcs.map((v) => v.id);
    const missing = ids.find((id) => !estate.seed.vpcs.some((v) => v.id === id));
    if (missing) throw awsError('ec2', 'InvalidVpcID.NotFound', `The vpc ID '${missing}' does not exist`);
    return {
      Vpcs: estate.seed.vpcs
        .filter((v) => ids.includes(v.id))
        .map((v) => ({
          VpcId: v.id,
          CidrBlock: v.cidrs[0],
          CidrBlockAssociationSet: v.cidrs.map((cidr, i) => ({
            AssociationId: `vpc-cidr-assoc-${v.id.slice(4)}${i}`,
            CidrBlock: cidr,
            CidrBlockState: { State: 'associated' },
          })),
          State: 'available',
        })),
    };
  },

  DescribeSubnets(estate, input) {
    const ids = (input.SubnetIds as string[] | undefined) ?? estate.seed.subnets.map((s) => s.id);
    const missing = ids.find((id) => !estate.seed.subnets.some((s) => s.id === id));
    if (missing) throw awsError('ec2', 'InvalidSubnetID.NotFound', `The subnet ID '${missing}' does not exist`);
    return {
      Subnets: estate.seed.subnets
        .filter((s) => ids.includes(s.id))
        .map((s) => ({ SubnetId: s.id, VpcId: s.vpcId, AvailabilityZone: s.availabilityZone, State: 'available' })),
    };
  },

  DescribeSecurityGroupRules(estate, input) {
    const filters = (input.Filters as Array<{ Name?: string; Values?: string[] }>) ?? [];
    const groups = filters.find((f) => f.Name === 'group-id')?.Values;
    const rules = estate.state.network.securityGroupRules.filter((r) => !groups || groups.includes(r.groupId));
    const { page, next } = paginate(rules, input.NextToken, input.MaxResults, 1000);
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

  AuthorizeSecurityGroupIngress(estate, input) {
    const groupId = String(input.GroupId);
    const rules = estate.state.network.securityGroupRules;
    if (!rules.some((r) => r.groupId === groupId)) {
      throw awsError('ec2', 'InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
    }
    type Permission = { IpProtocol: string; FromPort: number; ToPort: number; IpRanges?: Array<{ CidrIp: string }> };
    const tags = ((input.TagSpecifications as Array<{ Tags?: Array<{ Key: string; Value: string }> }>) ?? []).flatMap(
      (t) => t.Tags ?? [],
    );
    const added = [];
    for (const p of (input.IpPermissions as Permission[]) ?? []) {
      for (const range of p.IpRanges ?? []) {
        const same = (r: (typeof rules)[number]) =>
          r.groupId === groupId &&
          !r.isEgress &&
          r.protocol === p.IpProtocol &&
          r.fromPort === p.FromPort &&
          r.toPort === p.ToPort &&
          r.cidr === range.CidrIp;
        if (rules.some(same)) {
          throw awsError(
            'ec2',
            'InvalidPermission.Duplicate',
            `the specified rule "peer: ${range.CidrIp}, TCP, from port: ${p.FromPort}, to port: ${p.ToPort}, ALLOW" already exists`,
          );
        }
        const rule = {
          id: estate.nextId('sgr-', 17),
          groupId,
          isEgress: false,
          protocol: p.IpProtocol,
          fromPort: p.FromPort,
          toPort: p.ToPort,
          cidr: range.CidrIp,
          tags,
        };
        rules.push(rule);
        added.push({ SecurityGroupRuleId: rule.id, GroupId: groupId, CidrIpv4: rule.cidr });
      }
    }
    return { Return: true, SecurityGroupRules: added };
  },

  RevokeSecurityGroupIngress(estate, input) {
    const ids = (input.SecurityGroupRuleIds as string[]) ?? [];
    const rules = estate.state.network.securityGroupRules;
    const missing = ids.find((id) => !rules.some((r) => r.id === id && r.groupId === input.GroupId));
    if (missing)
      throw awsError(
        'ec2',
        'InvalidSecurityGroupRuleId.NotFound',
        `The security group rule ID '${missing}' does not exist`,
      );
    estate.state.network.securityGroupRules = rules.filter((r) => !ids.includes(r.id));
    return { Return: true };
  },
};
