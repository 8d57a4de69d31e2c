import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { NodeCommandFailedError } from '#lib/errors';
import { cordonNode } from '#lib/node-lifecycle/cordon';
import { drainNode } from '#lib/node-lifecycle/drain';
import { checkNodeCommand, runNodeCommand } from '#lib/node-lifecycle/node-command';
import type { NodeCommand, NodeCommandResult, RunNodeCommandInput } from '#lib/node-lifecycle/state';
import { SandboxEstate } from '#lib/sandbox/estate';
import { withServices } from '#lib/sandbox/index';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';

/**
 * runNodeCommand and checkNodeCommand against the sandbox's SSM Run Command and hosts
 * (lib/sandbox/hosts.ts), which read the real nodeadm scripts: gpu-node-12 is cordoned and
 * drained first, as the workflows do, and the command followed every 15 s of sandbox time.
 */

const CLUSTER = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://x',
  certificateAuthority: '',
};
const GPU_NODE_02 = 'mi-0a2b4c6d8e0f12342';
const UNINSTALL: RunNodeCommandInput = {
  instanceId: GPU_NODE_02,
  requestId: 'offboard-gpu-node-12-1',
  action: 'uninstall',
};
const UPGRADE: RunNodeCommandInput = {
  instanceId: GPU_NODE_02,
  requestId: 'upgrade-1',
  action: 'upgrade',
  kubernetesVersion: '1.33',
};

async function open(scenario = 'joins') {
  const estate = withServices(SandboxEstate.inMemory());
  estate.state.scenario = scenario;
  const nodes = sandboxKubeApi(estate);
  const deps = { ssm: estate.clients().ssm, clock: estate.clock };
  if (scenario !== 'host-offline') {
    const node = { cluster: CLUSTER, nodeName: GPU_NODE_02 };
    await cordonNode({ nodes }, node);
    const deadline = new Date(estate.clock.now().getTime() + 900_000).toISOString();
    for (
      let i = 0;
      i < 90 && !(await drainNode({ nodes, clock: estate.clock }, { ...node, deadline, force: false })).done;
      i++
    ) {
      estate.advance(10);
    }
  }
  return { estate, deps, node: () => nodes(CLUSTER).getNode(GPU_NODE_02) };
}

/** checkNodeCommand every `every` seconds until done (or it throws), at most `polls` times. */
async function follow(
  { estate, deps }: Awaited<ReturnType<typeof open>>,
  command: NodeCommand,
  { polls = 40, every = 15 } = {},
): Promise<NodeCommandResult> {
  let result: NodeCommandResult = { done: false, status: 'Pending' };
  for (let i = 0; i < polls && !result.done; i += 1) {
    estate.advance(every);
    result = await checkNodeCommand(deps, command);
  }
  return result;
}

describe('the node commands on the sandbox', () => {
  it('upgrade: nodeadm upgrade runs on the host, the output tail comes back, the kubelet is at 1.33', async () => {
    const sandbox = await open();

    const command = await runNodeCommand(sandbox.deps, UPGRADE);
    const result = await follow(sandbox, command);

    expect(result).toMatchObject({ done: true, status: 'Success' });
    expect(result.outputTail?.length).toBeGreaterThan(0);
    expect(result.outputTail?.join('\n')).not.toMatch(/activationCode/i);
    sandbox.estate.advance(120);
    expect((await sandbox.node())?.kubeletVersion).toMatch(/^v1\.33\./);
  });

  it('uninstall: done once nodeadm uninstall has run, the instance deregistered', async () => {
    const sandbox = await open();

    const result = await follow(sandbox, await runNodeCommand(sandbox.deps, UNINSTALL));

    expect(result.done).toBe(true);
    const listed = await sandbox.deps.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [GPU_NODE_02] }] }),
    );
    expect(listed.InstanceInformationList ?? []).toEqual([]);
  });

  it('a retried RunNodeCommand gets the command it sent, not a second one', async () => {
    const sandbox = await open();
    const first = await runNodeCommand(sandbox.deps, UPGRADE);
    sandbox.estate.advance(5);

    const again = await runNodeCommand(sandbox.deps, UPGRADE);

    expect(again).toEqual(first);
  });

  it('upgrade-fails: NodeCommandFailedError with the tail of what nodeadm said', async () => {
    const sandbox = await open('upgrade-fails');

    const error = await follow(sandbox, await runNodeCommand(sandbox.deps, UPGRADE)).catch((e: Error) => e);

    expect(error).toBeInstanceOf(NodeCommandFailedError);
    expect((error as Error).message).toMatch(
      /^nodeadm upgrade on mi-0a2b4c6d8e0f12342 ended Failed \(Failed\), exit code 1\. Last output: /,
    );
  });

  it('host-offline: the command is never picked up; it fails once it expires, Delivery Timed Out', async () => {
    const sandbox = await open('host-offline');
    const command = await runNodeCommand(sandbox.deps, UNINSTALL);

    // Pending until the command expires: its delivery and execution timeouts, 600 + 1800 s.
    const pending = await follow(sandbox, command, { polls: 7, every: 300 });
    expect(pending).toEqual({ done: false, status: 'Pending' });
    const error = await follow(sandbox, command, { polls: 2, every: 300 }).catch((e: Error) => e);

    expect(error).toBeInstanceOf(NodeCommandFailedError);
    expect((error as Error).message).toContain('ended TimedOut (Delivery Timed Out)');
    expect((error as Error).message).toContain('The host did not pick the command up');
  });
});
