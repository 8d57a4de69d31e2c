import { DeleteParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** Deletes parameters; ones already gone count as deleted. Returns the names SSM deleted. */
export async function deleteParameters(ssm: SSMClient, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const answer = await ssm.send(new DeleteParametersCommand({ Names: names }));
  return answer.DeletedParameters ?? [];
}
