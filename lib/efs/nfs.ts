import type { EfsDesiredState } from '../desired-state/schema';

/**
 * What the workflows know of a cluster's EFS file system as AWS has it, and which sources may
 * reach it over NFS: the reconciler plans against this, the sweep checks against it.
 */

/** NFS, as EFS serves it. */
export const NFS_PORT = 2049;

export interface ObservedMountTarget {
  id: string;
  availabilityZone: string;
  subnetId: string;
  ipAddress?: string;
  lifeCycleState: string;
}

export interface ObservedSgRule {
  id: string;
  isEgress: boolean;
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidr?: string;
}

export interface EfsObservation {
  fileSystem: { id: string; encrypted: boolean; lifeCycleState: string; oneZone?: string };
  mountTargets: ObservedMountTarget[];
  /** The cluster's subnets and their AZs. */
  clusterSubnets: Array<{ id: string; availabilityZone: string }>;
  securityGroupRules: ObservedSgRule[];
  vpcCidrs: string[];
  remoteNodeCidrs: string[];
  remotePodCidrs: string[];
}

/** The CIDRs that may reach NFS on the mount targets: the VPC, the remote nodes, pods unless NATed. */
export function allowedNfsCidrs(efs: EfsDesiredState, observed: EfsObservation): string[] {
  const cidrs = [
    ...observed.vpcCidrs,
    ...observed.remoteNodeCidrs,
    ...(efs.podsNatted ? [] : observed.remotePodCidrs),
    ...efs.extraCidrs,
  ];
  return [...new Set(cidrs)];
}

/** True when an ingress rule lets something reach TCP 2049. */
export function reachesNfs(rule: ObservedSgRule): boolean {
  if (rule.isEgress) return false;
  if (rule.protocol === '-1' || rule.protocol === 'all') return true;
  return (
    (rule.protocol === 'tcp' || rule.protocol === '6') &&
    (rule.fromPort ?? 0) <= NFS_PORT &&
    NFS_PORT <= (rule.toPort ?? 65535)
  );
}
