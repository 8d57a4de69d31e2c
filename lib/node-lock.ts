import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterType,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { NodeBusyError, OnboardingInProgressError } from './errors';

/** The workflows that change a node, and so take its lock. */
export type LockingWorkflow = 'onboarding' | 'offboarding' | 'upgrade';

export interface LockValue {
  requestId: string;
  expiresAt: string;
  /** Which workflow holds it; a lock written before offboarding and upgrades existed is an onboarding's. */
  workflow?: LockingWorkflow;
}

/**
 * Takes the per-node lock (settings.ts `lockParameter`): an SSM parameter created with
 * Overwrite=false, which SSM creates atomically, so two runs that change one node (an onboarding,
 * an offboarding, an upgrade) cannot both hold it. A lock whose holder's deadline has passed is
 * stale (its execution ended without cleanup) and is taken. Taking a lock this request already
 * holds succeeds, so a retried step is harmless.
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
  const current = await readNodeLock(ssm, name);
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
    const winner = await readNodeLock(ssm, name);
    throw inProgress(winner ?? { requestId: 'another request', expiresAt: 'unknown' });
  }
}

/** Where each workflow's runs are followed, for the error that names the holder. */
const STATUS_PATH: Record<LockingWorkflow, string> = {
  onboarding: 'nodes',
  offboarding: 'offboardings',
  upgrade: 'upgrades',
};

/** The holder's error: an onboarding's keeps its own name, which clients already match. */
function inProgress(holder: LockValue): OnboardingInProgressError | NodeBusyError {
  const workflow = holder.workflow ?? 'onboarding';
  const fix = `Wait for it to finish, or check GET /${STATUS_PATH[workflow]}/${holder.requestId}; submit again once it has ended.`;
  return workflow === 'onboarding'
    ? new OnboardingInProgressError(
        `Request ${holder.requestId} is already onboarding this node (until ${holder.expiresAt}).`,
        fix,
      )
    : new NodeBusyError(`The ${workflow} ${holder.requestId} holds this node (until ${holder.expiresAt}).`, fix);
}

/** Releases the lock if this request holds it; a lock held by another request is left alone. */
export async function releaseNodeLock(ssm: SSMClient, name: string, requestId: string): Promise<boolean> {
  const current = await readNodeLock(ssm, name);
  if (!current || current.requestId !== requestId) return false;
  try {
    await ssm.send(new DeleteParameterCommand({ Name: name }));
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  return true;
}

/** The lock's holder, or undefined when no one holds it (or its value is not a lock's). */
export async function readNodeLock(ssm: SSMClient, name: string): Promise<LockValue | undefined> {
  try {
    const answer = await ssm.send(new GetParameterCommand({ Name: name }));
    return JSON.parse(answer.Parameter?.Value ?? 'null') ?? undefined;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
