import { DrainBlockedError } from '#lib/errors';
import { cordonNode, uncordonNode } from '#lib/node-lifecycle/cordon';
import { drainNode } from '#lib/node-lifecycle/drain';
import type { DrainProgress } from '#lib/node-lifecycle/state';
import { SandboxEstate } from '#lib/sandbox/estate';
import { withServices } from '#lib/sandbox/index';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';

/**
 * The drain against the sandbox's Kubernetes (lib/sandbox/kubernetes.ts): the seeded gpu-node-12
 * runs two llm-inference pods behind a budget of minAvailable 2 (three replicas, the third on the
 * cloud node), a bare nvidia-smi-check pod and two DaemonSet pods. Passes 10 s apart, as the
 * workflows' drain loop waits.
 */

const CLUSTER = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://x',
  certificateAuthority: '',
};
const GPU_NODE_02 = 'mi-0a2b4c6d8e0f12342';
const input = { cluster: CLUSTER, nodeName: GPU_NODE_02 };

function open(scenario?: string) {
  const estate = withServices(SandboxEstate.inMemory());
  if (scenario) estate.state.scenario = scenario;
  return { estate, deps: { nodes: sandboxKubeApi(estate), clock: estate.clock } };
}

/** Drain passes every 10 s until done, or until `maxPasses`; each pass's progress. */
async function drainUntilDone(
  { estate, deps }: ReturnType<typeof open>,
  options: { deadline: string; force: boolean; maxPasses?: number },
): Promise<DrainProgress[]> {
  const passes: DrainProgress[] = [];
  for (let i = 0; i < (options.maxPasses ?? 60); i += 1) {
    const pass = await drainNode(deps, { ...input, deadline: options.deadline, force: options.force });
    passes.push(pass);
    if (pass.done) break;
    estate.advance(10);
  }
  return passes;
}

const inMinutes = (estate: SandboxEstate, minutes: number) =>
  new Date(estate.clock.now().getTime() + minutes * 60_000).toISOString();

describe('drainNode on the sandbox', () => {
  it('empties gpu-node-12 one budgeted pod at a time, leaving only its DaemonSet pods', async () => {
    const sandbox = open();
    await expect(cordonNode(sandbox.deps, input)).resolves.toEqual({ wasCordoned: false });

    const passes = await drainUntilDone(sandbox, { deadline: inMinutes(sandbox.estate, 15), force: false });

    const first = passes[0] as DrainProgress;
    expect(first.skipped).toEqual({ daemonSet: 2, mirror: 0 });
    // One llm-inference pod may go (3 healthy, 2 needed); the other is refused until its replacement is Ready.
    expect(first.evicting.map((p) => p.namespace).sort()).toEqual(['default', 'ml']);
    expect(first.blocked).toEqual([
      expect.objectContaining({ namespace: 'ml', reason: expect.stringContaining('disruption budget') }),
    ]);
    const last = passes.at(-1) as DrainProgress;
    expect(last).toMatchObject({ done: true, evicting: [], blocked: [], forced: [], skipped: { daemonSet: 2 } });
    // The refused one was asked again, pass after pass, until the first one's replacement was Ready.
    expect(passes.findIndex((p) => p.blocked.length === 0)).toBeGreaterThan(1);
  });

  it('with budgets that allow nothing, fails at the deadline naming the ml pods, and force deletes them', async () => {
    const sandbox = open('drain-blocked');
    await cordonNode(sandbox.deps, input);
    const deadline = inMinutes(sandbox.estate, 2);

    const error = await drainUntilDone(sandbox, { deadline, force: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(DrainBlockedError);
    expect((error as Error).message).toMatch(/with 2 pod\(s\) that would not leave: ml\/llm-inference-/);

    const forced = await drainUntilDone(sandbox, { deadline, force: true });
    expect(forced[0]?.forced.map((p) => p.namespace)).toEqual(['ml', 'ml']);
    expect(forced.at(-1)).toMatchObject({ done: true, skipped: { daemonSet: 2 } });
    await expect(uncordonNode(sandbox.deps, input)).resolves.toEqual({ uncordoned: true });
  });
});
