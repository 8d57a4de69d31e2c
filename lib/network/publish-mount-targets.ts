import * as z from 'zod';
import type { AwsClients } from '../aws/clients';
import type { DesiredState } from '../desired-state/schema';
import { observeMountTargets } from '../efs/observe';
import type { ReconcileContext } from './context';
import { MountTargetDirectorySchema, mountTargetDirectory, writeMountTargetDirectory } from './efs-aws';

/** One cluster's mount-target directory as the step published it (or found it unchanged). */
export const PublishedDirectorySchema = z.object({
  cluster: z.string(),
  parameter: z.string(),
  result: z.enum(['published', 'unchanged']),
  directory: MountTargetDirectorySchema,
});
export type PublishedDirectory = z.infer<typeof PublishedDirectorySchema>;

/**
 * Step PublishMountTargets: each cluster's mount-target directory (the IPs per AZ and the mount
 * options) to its SSM parameter, once the apply has settled; unchanged ones are not written.
 */
export async function publishMountTargets(
  clients: Pick<AwsClients, 'efs' | 'ssm'>,
  ctx: ReconcileContext,
  state: DesiredState,
): Promise<PublishedDirectory[]> {
  const published: PublishedDirectory[] = [];
  for (const cluster of state.clusters) {
    if (!cluster.efs) continue;
    const directory = mountTargetDirectory(
      cluster.efs,
      await observeMountTargets(clients.efs, cluster.efs.fileSystemId),
    );
    const parameter = `${ctx.parameterPrefix}/efs/${cluster.name}/mount-targets`;
    published.push({
      cluster: cluster.name,
      parameter,
      result: await writeMountTargetDirectory(clients.ssm, parameter, directory),
      directory,
    });
  }
  return published;
}
