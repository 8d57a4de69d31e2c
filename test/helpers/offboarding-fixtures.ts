/**
 * Fixtures for the offboarding unit tests: the sandbox estate (the seed's fleet: gpu-node-12 Ready,
 * gpu-node-13 NotReady, each with its managed instance) and the execution input DELETE /nodes/{node}
 * would build for one of its nodes.
 */
import { executionInput, validateOffboarding } from '#lib/offboarding/submit';
import type { OffboardingInput } from '#lib/offboarding/state';
import { sandboxRuntime, SandboxEstate, withServices } from '#lib/sandbox/index';
import { type Settings, settingsFromEnv } from '#lib/settings';

export const REGION = 'ap-northeast-2';
export const CLUSTER = 'gpu-hybrid-cluster';
export const CLUSTER_ARN = `arn:aws:eks:${REGION}:111122223333:cluster/${CLUSTER}`;
export const PREFIX = '/eks-hybrid-ops/test';
export const GPU_NODE_02 = 'mi-0a2b4c6d8e0f12342';
export const GPU_NODE_03 = 'mi-0a2b4c6d8e0f12343';
export const REQUESTER = 'arn:aws:iam::111122223333:user/alice';

export function offboardingSettings(): Settings {
  return settingsFromEnv({
    STAGE: 'test',
    AWS_REGION: REGION,
    CLUSTER_NAME: CLUSTER,
    HYBRID_NODES_ROLE_NAME: 'AmazonEKSHybridNodesRole',
    PARAMETER_PREFIX: PREFIX,
    LABEL_PREFIX: 'hybridops.io',
    OFFBOARD_STATE_MACHINE_ARN: `arn:aws:states:${REGION}:111122223333:stateMachine:offboard-node-test`,
  });
}

/** A fresh estate seeded from sandbox/estate.yaml, in memory. */
export const freshEstate = () => withServices(SandboxEstate.inMemory());

export const runtimeOf = (estate: SandboxEstate) => sandboxRuntime(estate, offboardingSettings());

/** The execution input DELETE /nodes/{node} builds for `node` with `body` as its options. */
export async function offboardingInput(
  estate: SandboxEstate,
  node: string,
  body: Record<string, unknown> = {},
): Promise<OffboardingInput> {
  const rt = runtimeOf(estate);
  const validation = await validateOffboarding(rt, { node, body: JSON.stringify(body) });
  if (!validation.ok || validation.kind !== 'found')
    throw new Error(`cannot offboard ${node}: ${JSON.stringify(validation)}`);
  return executionInput(validation.request, validation.target, REQUESTER, rt.settings);
}
