import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { InvalidDesiredStateError } from '../errors';
import { type DesiredState, isEmptyDesiredState, validateDesiredState } from './schema';

/**
 * Reads the deployed desired state (an SSM parameter CloudFormation writes from
 * config/<stage>.yaml) and validates it again: a parameter that is missing or invalid is
 * {@link InvalidDesiredStateError}, so nothing acts on a broken config. `empty`: it declares
 * nothing to reconcile.
 */
export async function readDesiredState(
  ssm: SSMClient,
  parameter: string,
): Promise<{ desired: DesiredState; empty: boolean }> {
  let text: string | undefined;
  try {
    text = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  if (!text) {
    throw new InvalidDesiredStateError(
      `The desired state parameter ${parameter} does not exist.`,
      'Deploy the stage (npx osls deploy): it writes config/<stage>.yaml there.',
    );
  }
  const result = validateDesiredState(JSON.parse(text));
  if (!result.ok) {
    throw new InvalidDesiredStateError(
      `The desired state in ${parameter} is invalid: ${result.problems.join('; ')}.`,
      'Fix config/<stage>.yaml and deploy again; nothing was changed.',
    );
  }
  return { desired: result.state, empty: isEmptyDesiredState(result.state) };
}
