import { type EC2Client, paginateDescribeSecurityGroupRules } from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, type EFSClient, paginateDescribeMountTargets } from '@aws-sdk/client-efs';
import { PAGE_SIZE } from '../aws/page-sizes';
import type { ClusterFacts } from '../cluster/facts';
import type { EfsDesiredState } from '../desired-state/schema';
import { subnetZones } from '../vpc/subnets';
import type { EfsObservation, ObservedMountTarget } from './nfs';

/** Reads the file system, its mount targets, the cluster's subnets and the mount-target security group's rules. */
export async function observeEfs(
  clients: { efs: EFSClient; ec2: EC2Client },
  input: { efs: EfsDesiredState; cluster: ClusterFacts },
): Promise<EfsObservation> {
  const fsAnswer = await clients.efs.send(new DescribeFileSystemsCommand({ FileSystemId: input.efs.fileSystemId }));
  const fs = fsAnswer.FileSystems?.[0];
  const mountTargets = await observeMountTargets(clients.efs, input.efs.fileSystemId);
  const clusterSubnets = await subnetZones(clients.ec2, input.cluster.subnetIds);
  const securityGroupRules: EfsObservation['securityGroupRules'] = [];
  for await (const page of paginateDescribeSecurityGroupRules(
    { client: clients.ec2, pageSize: PAGE_SIZE.ec2Describe },
    { Filters: [{ Name: 'group-id', Values: [input.efs.securityGroupId] }] },
  )) {
    for (const r of page.SecurityGroupRules ?? []) {
      if (!r.SecurityGroupRuleId) continue;
      securityGroupRules.push({
        id: r.SecurityGroupRuleId,
        isEgress: r.IsEgress ?? false,
        protocol: r.IpProtocol ?? '-1',
        fromPort: r.FromPort,
        toPort: r.ToPort,
        // An IPv6 source counts too: ::/0 on 2049 is as wide as 0.0.0.0/0.
        cidr: r.CidrIpv4 ?? r.CidrIpv6,
      });
    }
  }
  return {
    fileSystem: {
      id: input.efs.fileSystemId,
      encrypted: fs?.Encrypted ?? false,
      lifeCycleState: fs?.LifeCycleState ?? 'unknown',
      oneZone: fs?.AvailabilityZoneName,
    },
    mountTargets,
    clusterSubnets,
    securityGroupRules,
    vpcCidrs: input.cluster.vpcCidrs,
    remoteNodeCidrs: input.cluster.remoteNodeCidrs,
    remotePodCidrs: input.cluster.remotePodCidrs,
  };
}

export async function observeMountTargets(efs: EFSClient, fileSystemId: string): Promise<ObservedMountTarget[]> {
  const targets: ObservedMountTarget[] = [];
  // No page size: EFS ignores MaxItems ("Currently, this number is automatically set to 10, and
  // other values are ignored", the EFS API reference for DescribeMountTargets), so every NextMarker
  // is followed instead.
  for await (const page of paginateDescribeMountTargets({ client: efs }, { FileSystemId: fileSystemId })) {
    for (const mt of page.MountTargets ?? []) {
      if (!mt.MountTargetId || !mt.AvailabilityZoneName || !mt.SubnetId) continue;
      targets.push({
        id: mt.MountTargetId,
        availabilityZone: mt.AvailabilityZoneName,
        subnetId: mt.SubnetId,
        ipAddress: mt.IpAddress,
        lifeCycleState: mt.LifeCycleState ?? 'unknown',
      });
    }
  }
  return targets;
}
