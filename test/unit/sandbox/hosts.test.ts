import {
  CreateActivationCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';
import { handOutNodeConfig } from '#lib/sandbox/on-prem';
import type { EstateSeed } from '#lib/sandbox/seed';
import { kubernetesOf } from '#lib/sandbox/workloads';
import { freezeTimeAt } from '../../helpers/frozen-time';

/**
 * The sandbox's hosts running what Run Command sends them, on their own clock: nodeadm uninstall
 * and upgrade as aws/eks-hybrid does them, what the Node and the managed instance show meanwhile,
 * an offline host, and the scenarios that make nodeadm fail.
 */

const NOW = new Date('2026-11-22T06:00:00.000Z');
freezeTimeAt(NOW);

const GPU_02 = 'mi-0a2b4c6d8e0f12342';
const CPU_04 = 'mi-0a2b4c6d8e0f12344';
const CONFIG = '/etc/eks-hybrid-ops/nodeConfig.yaml';
const UPGRADE = [`nodeadm upgrade 1.33 -c file://${CONFIG} 2>&1`];
const UNINSTALL = ['nodeadm uninstall 2>&1'];
const CLUSTER = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://sandbox',
  certificateAuthority: '',
};

/** The default seed, its fleet's NodeConfigs at CONFIG. */
function seed(): EstateSeed {
  const s = loadSeed(DEFAULT_SEED);
  for (const f of s.fleet) f.nodeConfigPath = CONFIG;
  return s;
}

/** Cordons and drains a Node, as the workflows do before nodeadm: only DaemonSet pods stay. */
function drain(estate: SandboxEstate, name: string): void {
  estate.state.nodes[name]!.unschedulable = true;
  const { pods } = kubernetesOf(estate.state);
  for (const [key, pod] of Object.entries(pods)) {
    if (pod.nodeName === name && pod.controller?.kind !== 'DaemonSet') delete pods[key];
  }
}

/** An estate in `scenario`, gpu-node-12 cordoned and drained. */
function open(scenario = 'joins', s = seed()): SandboxEstate {
  const estate = withServices(SandboxEstate.inMemory(s));
  estate.state.scenario = scenario;
  drain(estate, GPU_02);
  return estate;
}

async function run(estate: SandboxEstate, commands: string[], instance = GPU_02, executionTimeout?: number) {
  const { Command } = await estate.clients().ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instance],
      Parameters: { commands, ...(executionTimeout ? { executionTimeout: [String(executionTimeout)] } : {}) },
    }),
  );
  const CommandId = Command?.CommandId ?? '';
  return {
    /** Moves the sandbox clock `seconds` and reads the invocation. */
    async after(seconds: number): Promise<GetCommandInvocationCommandOutput> {
      estate.advance(seconds);
      return estate.clients().ssm.send(new GetCommandInvocationCommand({ CommandId, InstanceId: instance }));
    },
  };
}

const node = (estate: SandboxEstate, name = GPU_02) => sandboxKubeApi(estate)(CLUSTER).getNode(name);
const logMessages = (output: string) =>
  output
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
const pingStatus = async (estate: SandboxEstate, id: string) =>
  (
    await estate
      .clients()
      .ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }))
  ).InstanceInformationList?.[0];

describe('the seeded hosts', () => {
  it("run the kubelet versions the seed gives them, below the cluster's 1.33", async () => {
    const estate = open();
    const versions = Object.fromEntries(
      Object.values(estate.state.nodes).map((n) => [estate.state.instances[n.name]?.name, n.kubeletVersion]),
    );

    expect(versions).toEqual({
      'gpu-node-12': 'v1.31.13-eks-113cf36',
      'gpu-node-13': 'v1.29.15-eks-473151a',
      'cpu-node-04': 'v1.32.9-eks-c39b1d0',
    });
    expect((await node(estate))?.kubeletVersion).toBe('v1.31.13-eks-113cf36');
  });

  it("keep their NodeConfig where onboarding's instructions put it, unless the seed says", () => {
    const s = loadSeed(DEFAULT_SEED);
    s.fleet[2]!.nodeConfigPath = '/root/nodeConfig.yaml';

    const estate = open('joins', s);

    // The instructions move it to /etc/eks-hybrid-ops and init from there (lib/onboarding/node-config.ts).
    expect(estate.state.hosts[GPU_02]?.nodeConfigPath).toBe(CONFIG);
    expect(estate.state.hosts[CPU_04]?.nodeConfigPath).toBe('/root/nodeConfig.yaml');
  });
});

describe('DescribeInstanceInformation', () => {
  it("filters by InstanceIds and gives an online agent's last heartbeat (every 5 minutes)", async () => {
    const estate = open();
    const registered = Date.parse(estate.state.instances[GPU_02]!.registrationDate);
    const heartbeats = Math.floor((NOW.getTime() - registered) / 300_000);

    const info = await pingStatus(estate, GPU_02);

    expect(info).toMatchObject({
      InstanceId: GPU_02,
      PingStatus: 'Online',
      LastPingDateTime: new Date(registered + heartbeats * 300_000),
    });
  });
});

describe('nodeadm uninstall on a host', () => {
  it('goes Pending, InProgress, then Success with nodeadm log, as the host picks it up and runs it', async () => {
    const estate = open();
    const command = await run(estate, UNINSTALL);

    const pending = await command.after(2);
    const running = await command.after(3);
    const done = await command.after(45);

    expect(pending).toMatchObject({
      Status: 'Pending',
      StatusDetails: 'Pending',
      ResponseCode: -1,
      ExecutionStartDateTime: '',
    });
    expect(running).toMatchObject({ Status: 'InProgress', StatusDetails: 'In Progress', ResponseCode: -1 });
    expect(done).toMatchObject({
      Status: 'Success',
      StatusDetails: 'Success',
      ResponseCode: 0,
      ExecutionStartDateTime: new Date(NOW.getTime() + 5000).toISOString(),
      ExecutionEndDateTime: new Date(NOW.getTime() + 50000).toISOString(),
      ExecutionElapsedTime: 'PT45S',
      StandardErrorContent: '',
    });
    expect(logMessages(done.StandardOutputContent ?? '')).toEqual(
      expect.arrayContaining([
        'Loading installed components',
        'Uninstalling kubelet...',
        'Finished uninstallation tasks...',
      ]),
    );
  });

  it('writes its log to stderr, as nodeadm does, unless the script sends it to stdout', async () => {
    const estate = open();
    const command = await run(estate, ['nodeadm uninstall']);

    const done = await command.after(60);

    expect(done.StandardOutputContent).toBe('');
    expect(logMessages(done.StandardErrorContent ?? '')).toContain('Finished uninstallation tasks...');
  });

  it('stops the kubelet first: the Node goes Unknown after the 50 s grace period of Kubernetes 1.32+', async () => {
    const estate = open();
    await run(estate, UNINSTALL);

    estate.advance(5 + 49);
    const before = await node(estate);
    estate.advance(1);
    const after = await node(estate);

    expect(before?.ready?.status).toBe('True');
    expect(after?.ready).toEqual({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      since: new Date(NOW.getTime() + 55000).toISOString(),
    });
  });

  it('deregisters the managed instance itself at the end, and leaves the host without nodeadm or kubelet', async () => {
    const estate = open();
    const command = await run(estate, UNINSTALL);

    await command.after(49);
    const registeredBefore = await pingStatus(estate, GPU_02);
    await command.after(1);

    expect(registeredBefore?.InstanceId).toBe(GPU_02);
    expect(await pingStatus(estate, GPU_02)).toBeUndefined();
    expect(estate.deregistered).toEqual([expect.objectContaining({ instanceId: GPU_02, by: 'nodeadm' })]);
    expect(estate.state.hosts[GPU_02]).toMatchObject({ nodeadm: false, kubelet: undefined });
  });

  it('refuses a Node that is not cordoned, as its node validation does', async () => {
    const estate = open();
    estate.state.nodes[GPU_02]!.unschedulable = false;
    const command = await run(estate, UNINSTALL);

    const done = await command.after(60);

    expect(done).toMatchObject({ Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 1 });
    expect(done.StandardOutputContent).toContain(
      '"msg":"Command failed","error":"please drain or cordon node to mark it unschedulable or use --skip node-validation: node is schedulable"',
    );
    expect(estate.state.instances[GPU_02]).toBeDefined();
    expect((await node(estate))?.ready?.status).toBe('True');
  });

  it("refuses a Node with pods other than DaemonSets' left, as its pod validation does", async () => {
    const estate = open();
    const { pods } = kubernetesOf(estate.state);
    const [key, daemon] = Object.entries(pods).find(([, p]) => p.nodeName === GPU_02)!;
    pods[`${key}-left`] = { ...daemon, name: 'left-behind', controller: { kind: 'ReplicaSet', name: 'rs' } };

    const done = await (await run(estate, UNINSTALL)).after(60);
    const upgrade = await (await run(estate, UPGRADE)).after(60);

    expect(done).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
    expect(done.StandardOutputContent).toContain(
      '"error":"only static pods and pods controlled by daemon-sets can be running on the node. Please move pods to different node or use --skip pod-validation"',
    );
    expect(upgrade.StandardOutputContent).toContain('only static pods and pods controlled by daemon-sets');
    expect(estate.state.instances[GPU_02]).toBeDefined();
  });

  it('passes a Node already deleted, and one with node-validation skipped', async () => {
    const deleted = open();
    delete deleted.state.nodes[GPU_02];
    const skipped = open();
    skipped.state.nodes[GPU_02]!.unschedulable = false;

    const one = await (await run(deleted, UNINSTALL)).after(60);
    const two = await (await run(skipped, ['nodeadm uninstall --skip node-validation,pod-validation'])).after(60);

    expect([one.Status, two.Status]).toEqual(['Success', 'Success']);
  });

  it('a second time, on a host it already cleaned, says so and exits 0', async () => {
    const estate = open();
    await (await run(estate, UNINSTALL)).after(60);
    estate.state.instances[GPU_02] = { ...estate.state.instances[CPU_04]!, instanceId: GPU_02 };

    const again = await (await run(estate, UNINSTALL)).after(60);

    expect(again).toMatchObject({ Status: 'Success', ResponseCode: 0 });
    expect(logMessages(again.StandardOutputContent ?? '')).toEqual([
      'Loading installed components',
      'Nodeadm components are already uninstalled',
    ]);
  });

  it('run in the background, returns at once and goes on on the host', async () => {
    const estate = open();
    const command = await run(estate, ['systemd-run --unit hybridops-uninstall nodeadm uninstall']);

    const returned = await command.after(6);
    const registered = await pingStatus(estate, GPU_02);
    estate.advance(45);

    expect(returned).toMatchObject({ Status: 'Success', StandardOutputContent: '' });
    expect(registered).toBeDefined();
    expect(await pingStatus(estate, GPU_02)).toBeUndefined();
  });

  it('is stopped at its executionTimeout: Execution Timed Out, the host half done', async () => {
    const estate = open();
    const command = await run(estate, UNINSTALL, GPU_02, 30);

    const done = await command.after(60);

    expect(done).toMatchObject({ Status: 'TimedOut', StatusDetails: 'Execution Timed Out' });
    expect(estate.state.instances[GPU_02]).toBeDefined();
    expect(estate.state.hosts[GPU_02]?.kubelet?.running).toBe(false);
  });
});

describe('nodeadm upgrade on a host', () => {
  it('restarts the kubelet at the target: NotReady at the new version, then Ready', async () => {
    const estate = open();
    const command = await run(estate, UPGRADE);

    const done = await command.after(5 + 180);
    const restarted = await node(estate);
    estate.advance(29);
    const stillStarting = await node(estate);
    estate.advance(1);
    const ready = await node(estate);

    expect(done).toMatchObject({ Status: 'Success', ResponseCode: 0 });
    expect(logMessages(done.StandardOutputContent ?? '')).toEqual(
      expect.arrayContaining(['Upgrading kubelet...', 'Daemon is running', 'Finished post-launch tasks']),
    );
    expect(restarted).toMatchObject({
      kubeletVersion: 'v1.33.5-eks-ecaa3a6',
      ready: { status: 'False', reason: 'KubeletNotReady' },
    });
    expect(stillStarting?.ready?.status).toBe('False');
    expect(ready).toMatchObject({ kubeletVersion: 'v1.33.5-eks-ecaa3a6', ready: { status: 'True' } });
  });

  it('keeps the Node Ready at its version while nodeadm works', async () => {
    const estate = open();
    const command = await run(estate, UPGRADE);

    const running = await command.after(100);

    expect(running.Status).toBe('InProgress');
    expect(await node(estate)).toMatchObject({ kubeletVersion: 'v1.31.13-eks-113cf36', ready: { status: 'True' } });
  });

  it('fails as nodeadm does when -c names a file that is not where the NodeConfig is', async () => {
    const estate = open();
    const command = await run(estate, ['nodeadm upgrade 1.33 -c file://nodeConfig.yaml 2>&1']);

    const done = await command.after(60);

    expect(done).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
    expect(done.StandardOutputContent).toContain('"error":"open nodeConfig.yaml: no such file or directory"');
    expect((await node(estate))?.kubeletVersion).toBe('v1.31.13-eks-113cf36');
  });

  it('fails on a host whose NodeConfig was left at a relative path, whatever -c says', async () => {
    const estate = open('joins', loadSeed(DEFAULT_SEED));
    // Onboarded with the instructions of old, `nodeadm init -c file://nodeConfig.yaml`: relative to
    // a shell no Run Command can name.
    estate.state.hosts[GPU_02]!.nodeConfigPath = undefined;

    const done = await (await run(estate, UPGRADE)).after(60);

    expect(done.StandardOutputContent).toContain(`"error":"open ${CONFIG}: no such file or directory"`);
  });

  it('fails for a version the release manifest does not have', async () => {
    const estate = open();

    const done = await (await run(estate, [`nodeadm upgrade 1.34 --config-source=file://${CONFIG} 2>&1`])).after(60);

    expect(done).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
    expect(done.StandardOutputContent).toContain(
      '"error":"getting latest eks release: input semver did not match with any available releases"',
    );
  });

  it('refuses a Node that is not cordoned, and needs -c (help, exit 2)', async () => {
    const estate = open();
    estate.state.nodes[GPU_02]!.unschedulable = false;

    const uncordoned = await (await run(estate, UPGRADE)).after(60);
    const noConfig = await (await run(estate, ['nodeadm upgrade 1.33 2>&1'])).after(60);

    expect(uncordoned.StandardOutputContent).toContain('node is schedulable');
    expect(noConfig).toMatchObject({ Status: 'Failed', ResponseCode: 2 });
  });

  it('on a host nodeadm was uninstalled from, does nothing and exits 0 (its tracker is gone)', async () => {
    const estate = open();
    estate.state.hosts[GPU_02]!.nodeadm = false;

    const done = await (await run(estate, UPGRADE)).after(60);

    expect(done).toMatchObject({ Status: 'Success', ResponseCode: 0 });
    expect(logMessages(done.StandardOutputContent ?? '')).toContain(
      'No nodeadm components installed. Please use nodeadm install and nodeadm init commands to bootstrap a node',
    );
    expect((await node(estate))?.kubeletVersion).toBe('v1.31.13-eks-113cf36');
  });
});

describe('the lifecycle scenarios', () => {
  it('host-offline: the host is ConnectionLost and its Node Unknown from the start of the run', async () => {
    const estate = open('host-offline');

    const info = await pingStatus(estate, GPU_02);
    const gpu02 = await node(estate);

    expect(info).toMatchObject({ PingStatus: 'ConnectionLost', LastPingDateTime: new Date(NOW.getTime() - 3600_000) });
    expect(gpu02?.ready).toMatchObject({ status: 'Unknown', message: 'Kubelet stopped posting node status.' });
    expect((await pingStatus(estate, CPU_04))?.PingStatus).toBe('Online');
  });

  it('host-offline: a command is never picked up: Pending until it expires, then Delivery Timed Out', async () => {
    const estate = open('host-offline');
    const command = await run(estate, UNINSTALL);

    const waiting = await command.after(7199);
    const expired = await command.after(1);

    expect(waiting).toMatchObject({ Status: 'Pending', ResponseCode: -1 });
    expect(expired).toMatchObject({ Status: 'TimedOut', StatusDetails: 'Delivery Timed Out', ResponseCode: -1 });
    expect(estate.state.instances[GPU_02]).toBeDefined();
  });

  it('uninstall-fails: pod validation refuses and nothing on the host changes', async () => {
    const estate = open('uninstall-fails');

    const done = await (await run(estate, UNINSTALL)).after(120);

    expect(done).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
    expect(done.StandardOutputContent).toContain(
      '"error":"only static pods and pods controlled by daemon-sets can be running on the node. Please move pods to different node or use --skip pod-validation"',
    );
    expect(estate.state.instances[GPU_02]).toBeDefined();
    expect((await node(estate))?.ready?.status).toBe('True');
  });

  it('uninstall-fails with pod validation skipped: SSM deregistration fails after the kubelet is gone', async () => {
    const estate = open('uninstall-fails');

    const done = await (await run(estate, ['nodeadm uninstall --skip pod-validation 2>&1'])).after(120);

    expect(done).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
    expect(done.StandardOutputContent).toContain('"error":"uninstalling SSM: getting managed instance information:');
    expect((await pingStatus(estate, GPU_02))?.PingStatus).toBe('ConnectionLost');
    expect((await node(estate))?.ready?.status).toBe('Unknown');
  });

  it('upgrade-fails: nodeadm exits 1 at the SSM installer, the kubelet keeps its version', async () => {
    const estate = open('upgrade-fails');

    const done = await (await run(estate, UPGRADE)).after(300);

    expect(done).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
    expect(done.StandardOutputContent).toContain(
      '"error":"failed to install ssm installer: validating ssm-setup-cli signature: Signature Verification Error: No matching signature"',
    );
    expect(await node(estate)).toMatchObject({ kubeletVersion: 'v1.31.13-eks-113cf36', ready: { status: 'True' } });
  });
});

describe('per-server scenarios (--scenario <scenario>:<server>)', () => {
  const perServer = (servers: Record<string, string>) => {
    const estate = open();
    estate.state.serverScenarios = servers;
    drain(estate, CPU_04);
    return estate;
  };

  it("a command follows each host's own scenario: only the named host's upgrade fails", async () => {
    const estate = perServer({ 'gpu-node-12': 'upgrade-fails' });

    const failed = await (await run(estate, UPGRADE, GPU_02)).after(300);
    const upgraded = await (await run(estate, UPGRADE, CPU_04)).after(300);

    expect(failed).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
    expect(upgraded).toMatchObject({ Status: 'Success', ResponseCode: 0 });
  });

  it('only the named host goes down under host-offline', async () => {
    const estate = perServer({ 'gpu-node-12': 'host-offline' });

    expect((await pingStatus(estate, GPU_02))?.PingStatus).toBe('ConnectionLost');
    expect((await pingStatus(estate, CPU_04))?.PingStatus).toBe('Online');
  });
});

describe('a server that joins through onboarding', () => {
  /** gpu-node-01 fetches a NodeConfig whose instructions are `commands`, and joins as `scenario` says. */
  async function join(
    commands: string[],
    scenario = 'joins',
    servers?: Record<string, string>,
  ): Promise<SandboxEstate> {
    const estate = open(scenario);
    if (servers) estate.state.serverScenarios = servers;
    await node(estate); // the run starts: its scenario is seen
    const { ActivationId, ActivationCode } = await estate
      .clients()
      .ssm.send(
        new CreateActivationCommand({ IamRole: 'AmazonEKSHybridNodesRole', DefaultInstanceName: 'gpu-node-01' }),
      );
    const nodeConfig = [
      'apiVersion: node.eks.aws/v1alpha1',
      'kind: NodeConfig',
      'spec:',
      '  cluster: { name: gpu-hybrid-cluster, region: ap-northeast-2 }',
      `  hybrid: { ssm: { activationCode: "${ActivationCode}", activationId: ${ActivationId} } }`,
      '  kubelet: { flags: ["--node-labels=gpu=h100"] }',
    ].join('\n');
    handOutNodeConfig(estate, JSON.stringify({ nodeConfig, commands }));
    estate.advance(60);
    await node(estate); // looking moves the world to now
    return estate;
  }
  const joined = (estate: SandboxEstate) => {
    const host = Object.values(estate.state.hosts).find((h) => h.name === 'gpu-node-01');
    return { host, node: host && estate.state.nodes[host.instanceId] };
  };

  it('runs the kubelet of the version its instructions installed, its NodeConfig where init read it', async () => {
    const estate = await join([
      'sudo nodeadm install 1.32 --credential-provider ssm',
      `sudo nodeadm init -c file://${CONFIG}`,
    ]);

    const { host, node: gpu01 } = joined(estate);

    expect(gpu01).toMatchObject({ kubeletVersion: 'v1.32.9-eks-c39b1d0', ready: { status: 'True' } });
    expect(host).toMatchObject({ nodeadm: true, nodeConfigPath: CONFIG });
  });

  it("runs the cluster's version when the instructions name none, and keeps no path init read relatively", async () => {
    const estate = await join(['sudo nodeadm init -c file://nodeConfig.yaml']);

    const { host, node: gpu01 } = joined(estate);

    expect(gpu01?.kubeletVersion).toBe('v1.33.5-eks-ecaa3a6');
    expect(host?.nodeConfigPath).toBeUndefined();
  });

  it('leaves its Node to the host once joined: NotReady while the upgraded kubelet starts', async () => {
    const estate = await join([
      'sudo nodeadm install 1.32 --credential-provider ssm',
      `sudo nodeadm init -c file://${CONFIG}`,
    ]);
    const id = joined(estate).host?.instanceId ?? '';
    drain(estate, id);

    await (await run(estate, UPGRADE, id)).after(5 + 180);

    expect(await node(estate, id)).toMatchObject({ kubeletVersion: 'v1.33.5-eks-ecaa3a6', ready: { status: 'False' } });
  });

  it('is up under host-offline when it joins after the run began (only servers that had joined are down)', async () => {
    const estate = await join([`sudo nodeadm init -c file://${CONFIG}`], 'host-offline');
    const { host, node: gpu01 } = joined(estate);

    expect(host?.downSince).toBeUndefined();
    expect(estate.state.instances[host?.instanceId ?? '']?.pingStatus).not.toBe('ConnectionLost');
    expect(gpu01?.ready?.status).toBe('True');
  });

  it('follows its own scenario when the run names one for it, whatever the run scenario', async () => {
    const never = await join([`sudo nodeadm init -c file://${CONFIG}`], 'joins', { 'gpu-node-01': 'never-registers' });
    const others = await join([`sudo nodeadm init -c file://${CONFIG}`], 'never-registers', {
      'gpu-node-07': 'joins',
    });
    const named = await join([`sudo nodeadm init -c file://${CONFIG}`], 'never-registers', {
      'gpu-node-01': 'joins',
    });

    expect(joined(never).host).toBeUndefined();
    expect(joined(others).host).toBeUndefined();
    expect(joined(named).node?.ready?.status).toBe('True');
  });

  it('makes its Node once: a running kubelet does not make it again when it is deleted', async () => {
    const estate = await join([`sudo nodeadm init -c file://${CONFIG}`], 'stays-not-ready');
    const id = joined(estate).host?.instanceId ?? '';
    const made = await node(estate, id);

    delete estate.state.nodes[id];
    estate.advance(600);

    expect(made?.ready?.status).toBe('False');
    expect(await node(estate, id)).toBeUndefined();
  });
});
