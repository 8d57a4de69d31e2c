import * as sdk from '@aws-sdk/client-efs';
import {
  BadRequest,
  type CreateMountTargetCommandInput,
  type CreateMountTargetCommandOutput,
  type DescribeFileSystemsCommandInput,
  type DescribeFileSystemsCommandOutput,
  type DescribeMountTargetsCommandInput,
  type DescribeMountTargetsCommandOutput,
  FileSystemNotFound,
  LifeCycleState,
  MountTargetConflict,
  PerformanceMode,
  SecurityGroupNotFound,
  SubnetNotFound,
  ValidationException,
} from '@aws-sdk/client-efs';
import type { SandboxEstate } from '../estate';
import { constraintMessage, filteredPage } from '../paging';
import type { Answer, SandboxService } from '../service';

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

/**
 * DescribeMountTargets pages by 10 whatever MaxItems says: "Currently, this number is automatically
 * set to 10, and other values are ignored" (the EFS API reference and service model, MaxItems).
 */
const MOUNT_TARGETS_PAGE = 10;

const azOf = (estate: SandboxEstate, subnetId: string) =>
  estate.seed.subnets.find((s) => s.id === subnetId)?.availabilityZone;

export const efsCommands = {
  DescribeFileSystems(
    estate: SandboxEstate,
    input: DescribeFileSystemsCommandInput,
  ): Answer<DescribeFileSystemsCommandOutput> {
    const fs = fileSystem(estate, input.FileSystemId);
    return {
      FileSystems: [
        {
          FileSystemId: fs.id,
          OwnerId: estate.seed.account,
          CreationToken: fs.id,
          // Members the model requires that the seed does not declare: the creation time is not
          // simulated; an empty file system meters its root directory, 2 KiB of metadata and 4 KiB
          // of data (https://docs.aws.amazon.com/efs/latest/ug/metered-sizes.html); generalPurpose
          // is CreateFileSystem's default mode (EFS API reference).
          CreationTime: undefined,
          SizeInBytes: { Value: 6144 },
          PerformanceMode: PerformanceMode.GENERAL_PURPOSE,
          Tags: [],
          Encrypted: fs.encrypted,
          LifeCycleState: LifeCycleState.AVAILABLE,
          NumberOfMountTargets: fs.mountTargets.length,
          ...(fs.oneZone ? { AvailabilityZoneName: fs.oneZone } : {}),
        },
      ],
    };
  },

  DescribeMountTargets(
    estate: SandboxEstate,
    input: DescribeMountTargetsCommandInput,
  ): Answer<DescribeMountTargetsCommandOutput> {
    const fs = fileSystem(estate, input.FileSystemId);
    const all = fs.mountTargets.map((mt) => ({
      MountTargetId: mt.id,
      FileSystemId: fs.id,
      SubnetId: mt.subnetId,
      IpAddress: mt.ip,
      LifeCycleState:
        mt.availableAt && mt.availableAt > estate.clock.now().toISOString()
          ? LifeCycleState.CREATING
          : LifeCycleState.AVAILABLE,
      AvailabilityZoneName: azOf(estate, mt.subnetId),
      VpcId: estate.seed.subnets.find((s) => s.id === mt.subnetId)?.vpcId,
    }));
    // MaxItems is ignored, but it must still be 1 or more (the model's MaxItems: min 1); EFS answers
    // a value outside its model with ValidationException (aws/aws-sdk-js-v3#1288).
    if (input.MaxItems !== undefined && !(Number(input.MaxItems) >= 1)) {
      throw new ValidationException({
        ...meta,
        message: constraintMessage('maxItems', input.MaxItems, 'have value greater than or equal to 1'),
        ErrorCode: 'ValidationException',
      });
    }
    // EFS's error for a Marker it never gave is not documented; BadRequest is its error for "an
    // invalid parameter value" (the service model).
    const { page, next } = filteredPage(all, () => true, {
      token: input.Marker,
      size: MOUNT_TARGETS_PAGE,
      badToken: () => new BadRequest({ ...meta, message: 'The Marker is not one EFS gave.', ErrorCode: 'BadRequest' }),
    });
    return { MountTargets: page, NextMarker: next };
  },

  CreateMountTarget(
    estate: SandboxEstate,
    input: CreateMountTargetCommandInput,
  ): Answer<CreateMountTargetCommandOutput> {
    const fs = fileSystem(estate, input.FileSystemId);
    const subnet = estate.seed.subnets.find((s) => s.id === input.SubnetId);
    if (!subnet)
      throw new SubnetNotFound({
        ...meta,
        message: `Subnet ${String(input.SubnetId)} does not exist.`,
        ErrorCode: 'SubnetNotFound',
      });
    const groups = input.SecurityGroups ?? [];
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
      LifeCycleState: LifeCycleState.CREATING,
      AvailabilityZoneName: subnet.availabilityZone,
    };
  },
};

/** EFS: file systems and their mount targets (one per AZ), from the seed's network. */
export const efsService = {
  name: 'efs',
  source: __filename,
  exceptions: { base: sdk.EFSServiceException, module: sdk },
  commands: efsCommands,
} satisfies SandboxService;
