import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { parseDesiredState } from '#lib/desired-state/file';
import { desiredStateParameter } from '#lib/settings';
import type { LocalRuntime } from '../local-runtime';
import { PROJECT_ROOT } from '../serverless-config';

/**
 * On the sandbox, "deploys" the stage's desired state as `osls deploy` would: config/sandbox.yaml
 * (or $HYBRIDOPS_CONFIG), validated, written to the desired-state parameter. Against AWS the
 * deployed parameter is used as it is. Returns the problems when the file is invalid.
 */
export async function deployDesiredStateLocally(local: LocalRuntime): Promise<string[]> {
  if (!local.estate) return [];
  const file = process.env.HYBRIDOPS_CONFIG ?? join(PROJECT_ROOT, 'config', 'sandbox.yaml');
  const parsed = parseDesiredState(readFileSync(file, 'utf8'));
  if (!parsed.ok) return parsed.problems.map((p) => `${file}: ${p}`);
  await local.runtime.clients.ssm.send(
    new PutParameterCommand({
      Name: desiredStateParameter(local.runtime.settings),
      Type: 'String',
      Value: JSON.stringify(parsed.state),
      Overwrite: true,
    }),
  );
  return [];
}
