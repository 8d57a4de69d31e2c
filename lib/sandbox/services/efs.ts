import { FileSystemNotFound, MountTargetConflict, SecurityGroupNotFound, SubnetNotFound } from '@aws-sdk/client-efs';
import { paginate, type SandboxEstate, type ServiceHandlers } from '../estate';

const meta = { $metadata: {} };

function fileSystem(estate: SandboxEstate, id: unknown) {
  const fs = estate.state.network.fileSystems.find((f) => f.id === id);
  if (!fs)
    throw new FileSystemNotFound({
      ...meta,
      message: `File system '${String(id)}' does not exist.`,
      ErrorCode: 'FileSystemNotFound',
    });
  return fs;
}

const azOf = (estate: SandboxEstate, subnetId: string) =>
  estate.seed.subnets.find((s) => s.id === subnetId)?.availabilityZone;

/** EFS: file systems and their mount targets (one per AZ), from the seed's network. */
export const efsHandlers: ServiceHandlers = {
  DescribeFileSystems(estate, input) {
    const fs = fileSystem(estate, input.FileSystemId);
    return {
      FileSystems: [
        {
          FileSystemId: fs.id,
          Encrypted: fs.encrypted,
          LifeCycleState: 'available',
          NumberOfMountTargets: fs.mountTargets.length,
          ...(fs.oneZone ? { AvailabilityZoneName: fs.oneZone } : {}),
        },
      ],
    };
  },

  DescribeMountTargets(estate, input) {
    const fs = fileSystem(estate, input.FileSystemId);
    const all = fs.mountTargets.map((mt) => ({
      MountTargetId: mt.id,
      FileSystemId: fs.id,
      SubnetId: mt.subnetId,
      IpAddress: mt.ip,
      LifeCycleState: mt.availableAt && mt.availableAt > estate.clock.now().toISOString() ? 'creating' : 'available',
      AvailabilityZoneName: azOf(estate, mt.subnetId),
      VpcId: estate.seed.subnets.find((s) => s.id === mt.subnetId)?.vpcId,
    }));
    const { page, next } = paginate(all, input.Marker, input.MaxItems, 10);
    return { MountTargets: page, NextMarker: next };
  },

  CreateMountTarget(estate, input) {
    const fs = fileSystem(estate, input.FileSystemId);
    const subnet = estate.seed.subnets.find((s) => s.id === input.SubnetId);
    if (!subnet)
      throw new SubnetNotFound({
        ...meta,
        message: `Subnet ${String(input.SubnetId)} does not exist.`,
        ErrorCode: 'SubnetNotFound',
      });
    const groups = (input.SecurityGroups as string[]) ?? [];
    const known = new Set(estate.state.network.securityGroupRules.map((r) => r.groupId));
    const missing = groups.find((g) => !known.has(g));
    if (missing)
      throw new SecurityGroupNotFound({
        ...meta,
        message: `Security group ${missing} does not exist.`,
        ErrorCode: 'SecurityGroupNotFound',
      });
    if (fs.mountTargets.some((mt) => azOf(estate, mt.subnetId) === subnet.availabilityZone)) {
      throw new MountTargetConflict({
        ...meta,
        message: 'mount target already exists in this AZ',
        ErrorCode: 'MountTargetConflict',
      });
    }
    const n = fs.mountTargets.length + 10;
    const { mountTargetSeconds } = estate.state.network.delays;
    const mt = {
      id: estate.nextId('fsmt-', 17),
      subnetId: subnet.id,
      ip: `10.0.${n}.${40 + n}`,
      securityGroups: groups,
      // `creating` until then (network.delays in the seed).
      ...(mountTargetSeconds > 0
        ? { availableAt: new Date(estate.clock.now().getTime() + mountTargetSeconds * 1000).toISOString() }
        : {}),
    };
    fs.mountTargets.push(mt);
    return {
      MountTargetId: mt.id,
      FileSystemId: fs.id,
      SubnetId: subnet.id,
      IpAddress: mt.ip,
      LifeCycleState: 'creating',
      AvailabilityZoneName: subnet.availabilityZone,
    };
  },
};
