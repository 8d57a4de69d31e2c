import {
  DeregisterManagedInstanceCommand,
  DescribeInstanceInformationCommand,
  InvalidInstanceId,
  type SSMClient,
} from '@aws-sdk/client-ssm';

/** Whether SSM still lists the managed instance (DescribeInstanceInformation, filtered by id). */
export async function isRegistered(ssm: SSMClient, instanceId: string): Promise<boolean> {
  const answer = await ssm.send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }], MaxResults: 5 }),
  );
  return (answer.InstanceInformationList ?? []).some((i) => i.InstanceId === instanceId);
}

/**
 * Deregisters a managed instance, or finds it gone already (an earlier try, or nodeadm, did it;
 * or the first answer was lost after SSM acted and the SDK asked again). SSM says so with
 * `InvalidInstanceId`, but only to a caller allowed to ask: this project's roles may deregister
 * only instances tagged with their cluster (`ssm:resourceTag/EKSClusterARN`), and an instance that
 * no longer exists has no tags, so IAM refuses first with AccessDeniedException (IAM user guide,
 * "Controlling access to AWS resources using tags": a condition on a tag the resource lacks does
 * not match). A refusal is taken for "gone" only when SSM no longer lists the instance.
 */
export async function deregisterManagedInstance(
  ssm: SSMClient,
  instanceId: string,
): Promise<'deregistered' | 'already gone'> {
  try {
    await ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: instanceId }));
    return 'deregistered';
  } catch (error) {
    if (error instanceof InvalidInstanceId) return 'already gone';
    if ((error as Error).name === 'AccessDeniedException' && !(await isRegistered(ssm, instanceId))) {
      return 'already gone';
    }
    throw error;
  }
}
