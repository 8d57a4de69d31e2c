import type { SSMClient } from '@aws-sdk/client-ssm';
import { readDesiredState } from '../desired-state/load';
import type { DesiredState } from '../desired-state/schema';
import { EmptyDesiredStateError } from '../errors';
import type { Mode } from './modes';

/**
 * The deployed desired state, validated again ({@link readDesiredState}). Apply is refused when it
 * is invalid or empty, so a broken config can never make the reconciler delete everything.
 */
export async function loadDesiredState(
  ssm: SSMClient,
  input: { parameter: string; mode: Mode },
): Promise<{ desired: DesiredState; empty: boolean }> {
  const { desired, empty } = await readDesiredState(ssm, input.parameter);
  if (empty && input.mode === 'apply') {
    throw new EmptyDesiredStateError(
      `The desired state in ${input.parameter} declares nothing; apply is refused so that it cannot remove everything.`,
      'Declare the clusters and their DNS and EFS in config/<stage>.yaml, or run in plan mode.',
    );
  }
  return { desired, empty };
}
