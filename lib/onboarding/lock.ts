import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterType,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { OnboardingInProgressError } from '../errors';

interface LockValue {
  requestId: string;
  expiresAt: string;
}

/**
 * Takes the per-node onboarding lock: an SSM parameter created with Overwrite=false, which SSM
 * creates atomically, so two onboardings of one node name cannot both pass preflight. A lock
 * whose holder's deadline has passed is stale (its execution ended without cleanup) and is taken.
 * Taking a lock this request already holds succeeds, so a retried preflight is harmless.
 */
export async function acquireNodeLock(ssm: SSMClient, name: string, holder: LockValue, now: Date): Promise<void> {
  const put = (overwrite: boolean) =>
    ssm.send(
      new PutParameterCommand({
        Name: name,
        Type: ParameterType.STRING,
        Value: JSON.stringify(holder),
        Overwrite: overwrite,
      }),
    );
  try {
    await put(false);
    return;
  } catch (error) {
    if (!(error instanceof ParameterAlreadyExists)) throw error;
  }
  const current = await readLock(ssm, name);
  if (current?.requestId === holder.requestId) {
    await put(true); // ours already: a retried preflight
    return;
  }
  if (current && new Date(current.expiresAt) > now) throw inProgress(current);
  // Stale: delete it, then create ours with Overwrite=false again, so that of two requests
  // taking over the same stale lock only one can win.
  await ssm.send(new DeleteParameterCommand({ Name: name })).catch((error: unknown) => {
    if (!(error instanceof ParameterNotFound)) throw error;
  });
  try {
    await put(false);
  } catch (error) {
    if (!(error instanceof ParameterAlreadyExists)) throw error;
    const winner = await readLock(ssm, name);
    throw inProgress(winner ?? { requestId: 'another request', expiresAt: 'unknown' });
  }
}

function inProgress(holder: LockValue): OnboardingInProgressError {
  return new OnboardingInProgressError(
    `Request ${holder.requestId} is already onboarding this node (until ${holder.expiresAt}).`,
    `Wait for it to finish, or check GET /nodes/${holder.requestId}; submit again once it has ended.`,
  );
}

/** Releases the lock if this request holds it; a lock held by another request is left alone. */
export async function releaseNodeLock(ssm: SSMClient, name: string, requestId: string): Promise<boolean> {
  const current = await readLock(ssm, name);
  if (!current || current.requestId !== requestId) return false;
  try {
    await ssm.send(new DeleteParameterCommand({ Name: name }));
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  return true;
}

async function readLock(ssm: SSMClient, name: string): Promise<LockValue | undefined> {
  try {
    const answer = await ssm.send(new GetParameterCommand({ Name: name }));
    return JSON.parse(answer.Parameter?.Value ?? 'null') ?? undefined;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
