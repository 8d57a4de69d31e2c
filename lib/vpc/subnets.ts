import { type EC2Client, paginateDescribeSubnets } from '@aws-sdk/client-ec2';

/**
 * The Availability Zone of each subnet asked for that has one. Asked by id, EC2 answers them all
 * without MaxResults (up to 1,000 ids: EC2 developer guide, "Pagination in the Amazon EC2 API"),
 * but any NextToken it gives is followed all the same.
 */
export async function subnetZones(
  ec2: EC2Client,
  subnetIds: string[],
): Promise<Array<{ id: string; availabilityZone: string }>> {
  if (!subnetIds.length) return [];
  const zones: Array<{ id: string; availabilityZone: string }> = [];
  for await (const page of paginateDescribeSubnets({ client: ec2 }, { SubnetIds: [...new Set(subnetIds)] })) {
    for (const s of page.Subnets ?? []) {
      if (s.SubnetId && s.AvailabilityZone) zones.push({ id: s.SubnetId, availabilityZone: s.AvailabilityZone });
    }
  }
  return zones;
}
