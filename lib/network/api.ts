import { randomUUID } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { RequestRejectedError } from '../errors';
import { MODES, type Mode } from './modes';

const isMode = (value: unknown): value is Mode => MODES.includes(value as Mode);

/**
 * `POST /reconcile` with `{"mode": "plan"|"apply"}`: starts a reconciliation. The desired state
 * is the deployed one (config/<stage>.yaml); the body only chooses whether to change anything.
 */
export async function startReconcile(
  deps: { sfn: SFNClient; stateMachineArn?: string },
  input: { body: string | null | undefined; requester: string },
): Promise<{ mode: Mode; executionArn?: string; name: string }> {
  let mode: unknown;
  try {
    mode = (JSON.parse(input.body || '{}') as { mode?: unknown }).mode ?? 'plan';
  } catch {
    throw new RequestRejectedError('The body is not JSON; send {"mode": "plan"} or {"mode": "apply"}.');
  }
  if (!isMode(mode)) {
    throw new RequestRejectedError(`mode must be plan or apply, not ${JSON.stringify(mode)}; nothing was started.`);
  }
  if (!deps.stateMachineArn) throw new Error('RECONCILE_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  const name = `${mode}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  const started = await deps.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: deps.stateMachineArn,
      name,
      input: JSON.stringify({ mode, trigger: 'api', requester: input.requester }),
    }),
  );
  return { mode, executionArn: started.executionArn, name };
}
