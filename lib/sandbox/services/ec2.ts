import { awsError, type ServiceHandlers } from '../estate';

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
};
