import { join } from 'node:path';
import { readNodeConfigHandout } from '#lib/onboarding/status';
import type { LocalRuntime } from '../local-runtime';
import { writeSecretFile } from '../write-secret';

/**
 * What a team does once RenderNodeConfig has run: fetch the NodeConfig the onboarding stored for
 * `requestId` and keep it as `<dir>/nodeConfig.yaml`, readable by its owner only (it holds the
 * activation code). Returns the file and the commands that install it.
 */
export async function writeNodeConfigHandout(
  local: LocalRuntime,
  requestId: string,
  dir: string,
): Promise<{ file: string; commands: string[] }> {
  const handout = await readNodeConfigHandout(
    { ssm: local.runtime.clients.ssm, settings: local.runtime.settings },
    requestId,
  );
  if (!handout) throw new Error(`NodeConfig for ${requestId} was not stored.`);
  const file = join(dir, 'nodeConfig.yaml');
  writeSecretFile(file, handout.nodeConfig);
  return { file, commands: handout.commands };
}
