import {
  AuthorizeSecurityGroupIngressCommand,
  type EC2Client,
  Protocol,
  ResourceType,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { CreateMountTargetCommand, type EFSClient, LifeCycleState, MountTargetConflict } from '@aws-sdk/client-efs';
import {
  GetParameterCommand,
  ParameterNotFound,
  ParameterType,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import * as z from 'zod';
import type { EfsDesiredState } from '../desired-state/schema';
import { NFS_PORT, type ObservedMountTarget } from '../efs/nfs';
import { observeMountTargets } from '../efs/observe';
import type { Action, Outcome } from './plan';
import { MANAGED_TAG } from './resolver-plan';

const errorCode = (error: unknown) => {
  const e = error as { name?: string; Code?: string; code?: string };
  return e.Code ?? e.code ?? e.name ?? '';
};

/** Applies one EFS or security-group action; AWS's "already so" answers count as done. */
export async function applyEfsAction(
  clients: { efs: EFSClient; ec2: EC2Client },
  action: Action,
  owner: string,
): Promise<Outcome> {
  const p = action.params;
  switch (action.type) {
    case 'create-mount-target':
      try {
        const created = await clients.efs.send(
          new CreateMountTargetCommand({
            FileSystemId: String(p.fileSystemId),
            SubnetId: String(p.subnetId),
            SecurityGroups: [String(p.securityGroupId)],
          }),
        );
        // EFS answers while the mount target is still `creating`; it serves NFS once `available`.
        return created.LifeCycleState === LifeCycleState.CREATING
          ? `waiting: the mount target in ${p.availabilityZone} is creating`
          : 'done';
      } catch (error) {
        if (!(error instanceof MountTargetConflict)) throw error;
        // One per AZ: a conflict usually means this AZ has one now (an earlier, throttled try).
        // EFS also says it for a subnet in another VPC, so check before calling it done.
        const targets = await observeMountTargets(clients.efs, String(p.fileSystemId));
        const there = targets.find((t) => t.availabilityZone === p.availabilityZone);
        if (!there) throw error;
        return there.lifeCycleState === LifeCycleState.AVAILABLE
          ? 'already-done'
          : `waiting: the mount target in ${p.availabilityZone} is ${there.lifeCycleState}`;
      }
    case 'authorize-nfs':
      try {
        await clients.ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: String(p.groupId),
            IpPermissions: [
              {
                IpProtocol: Protocol.tcp,
                FromPort: NFS_PORT,
                ToPort: NFS_PORT,
                IpRanges: [{ CidrIp: String(p.cidr), Description: 'NFS to EFS for EKS hybrid nodes (eks-hybrid-ops)' }],
              },
            ],
            TagSpecifications: [
              { ResourceType: ResourceType.security_group_rule, Tags: [{ Key: MANAGED_TAG, Value: owner }] },
            ],
          }),
        );
        return 'done';
      } catch (error) {
        if (errorCode(error) === 'InvalidPermission.Duplicate') return 'already-done';
        throw error;
      }
    case 'revoke-nfs':
      try {
        await clients.ec2.send(
          new RevokeSecurityGroupIngressCommand({
            GroupId: String(p.groupId),
            SecurityGroupRuleIds: [String(p.ruleId)],
          }),
        );
        return 'done';
      } catch (error) {
        if (errorCode(error) === 'InvalidSecurityGroupRuleId.NotFound') return 'already-done';
        throw error;
      }
    default:
      throw new Error(`not an EFS action: ${action.type}`);
  }
}

/** Where a mount target EFS is creating stands: available is done, creating still waiting, anything else failed. */
export async function mountTargetOutcome(
  efs: EFSClient,
  fileSystemId: string,
  availabilityZone: string,
): Promise<Outcome> {
  const target = (await observeMountTargets(efs, fileSystemId)).find((t) => t.availabilityZone === availabilityZone);
  if (!target) return `failed: the mount target in ${availabilityZone} is gone`;
  if (target.lifeCycleState === LifeCycleState.AVAILABLE) return 'done';
  if (target.lifeCycleState === LifeCycleState.CREATING || target.lifeCycleState === LifeCycleState.UPDATING) {
    return `waiting: the mount target in ${availabilityZone} is ${target.lifeCycleState}`;
  }
  return `failed: the mount target in ${availabilityZone} is ${target.lifeCycleState}`;
}

/** What on-prem hosts need to mount EFS over NFS (the EFS CSI driver does not run on hybrid nodes). */
export const MountTargetDirectorySchema = z.object({
  fileSystemId: z.string(),
  mountOptions: z.string(),
  mountTargets: z.array(z.object({ availabilityZone: z.string(), ipAddress: z.string(), mountTargetId: z.string() })),
});
export type MountTargetDirectory = z.infer<typeof MountTargetDirectorySchema>;

/**
 * Publishes the mount-target IPs per AZ and the mount options to an SSM parameter for on-prem
 * automation, writing only when they changed (a second apply must change nothing).
 */
export async function writeMountTargetDirectory(
  ssm: SSMClient,
  name: string,
  directory: MountTargetDirectory,
): Promise<'published' | 'unchanged'> {
  const value = JSON.stringify(directory);
  try {
    const current = await ssm.send(new GetParameterCommand({ Name: name }));
    if (current.Parameter?.Value === value) return 'unchanged';
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  await ssm.send(
    new PutParameterCommand({
      Name: name,
      Type: ParameterType.STRING,
      Value: value,
      Overwrite: true,
      Description: `EFS ${directory.fileSystemId} mount targets for on-prem NFS clients (eks-hybrid-ops)`,
    }),
  );
  return 'published';
}

export function mountTargetDirectory(efs: EfsDesiredState, targets: ObservedMountTarget[]): MountTargetDirectory {
  return {
    fileSystemId: efs.fileSystemId,
    mountOptions: efs.mountOptions,
    mountTargets: targets
      .filter((t) => t.ipAddress && t.lifeCycleState === LifeCycleState.AVAILABLE)
      .map((t) => ({ availabilityZone: t.availabilityZone, ipAddress: t.ipAddress as string, mountTargetId: t.id }))
      .sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone)),
  };
}
