import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { EmptyDesiredStateError, InvalidDesiredStateError } from '../errors';
import { type DesiredState, isEmptyDesiredState, validateDesiredState } from './config';
import type { Mode } from './modes';

/**
 * Reads the deployed desired state (an SSM parameter CloudFormation writes from
 * config/<stage>.yaml) and validates it again. Apply is refused when it is invalid or empty, so
 * a broken config can never make the reconciler delete everything.
 */
export async function loadDesiredState(
  ssm: SSMClient,
  input: { parameter: string; mode: Mode },
): Promise<{ desired: DesiredState; empty: boolean }> {
  let text: string | undefined;
  try {
    text = (await ssm.send(new GetParameterCommand({ Name: input.parameter }))).Parameter?.Value;
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  if (!text) {
    throw new InvalidDesiredStateError(
      `The desired state parameter ${input.parameter} does not exist.`,
      'Deploy the stage (npx osls deploy): it writes config/<stage>.yaml there.',
    );
  }
  const result = validateDesiredState(JSON.parse(text));
  if (!result.ok) {
    throw new InvalidDesiredStateError(
      `The desired state in ${input.parameter} is invalid: ${result.problems.join('; ')}.`,
      'Fix config/<stage>.yaml and deploy again; nothing was changed.',
    );
  }
  const empty = isEmptyDesiredState(result.state);
  if (empty && input.mode === 'apply') {
    throw new EmptyDesiredStateError(
      `The desired state in ${input.parameter} declares nothing; apply is refused so that it cannot remove everything.`,
      'Declare the clusters and their DNS and EFS in config/<stage>.yaml, or run in plan mode.',
    );
  }
  return { desired: result.state, empty };
}
