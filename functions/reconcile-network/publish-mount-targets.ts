import { EFSClient } from '@aws-sdk/client-efs';
import { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { taskHandler } from '../commons/task-handler';
import { DesiredStateSchema } from '#lib/desired-state/schema';
import { publishMountTargets } from '#lib/network/publish-mount-targets';
import { reconcileContext } from '#lib/settings';

const Input = z.object({ desired: DesiredStateSchema });

/**
 * Task PublishMountTargets: each cluster's mount-target IPs to its SSM parameter, once the apply
 * has settled. A step of its own, so a failure here never loses the apply's outcomes.
 */
export const { run, handler, clients } = taskHandler(Input, { efs: EFSClient, ssm: SSMClient }, (input, rt) =>
  publishMountTargets(rt.clients, reconcileContext(rt.settings), input.desired),
);
