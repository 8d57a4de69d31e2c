import { CreateActivationCommand } from '@aws-sdk/client-ssm';
import { nodeConfigYaml } from '#lib/onboarding/node-config';
import type { OnboardingRequest } from '#lib/onboarding/request';
import { cidrContainsIp, parseCidr } from '#lib/domain/ipv4';
import { withServices } from '#lib/sandbox/index';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import { advanceOnPrem, handOutNodeConfig } from '#lib/sandbox/on-prem';
import { MAX_TIMELINE_OFFSET_SECONDS, timelineOffsetSeconds } from '#lib/sandbox/server-profile';
import { freezeTimeAt } from '../../helpers/frozen-time';

/**
 * The sandbox's simulated servers: what a server the seed does not name is (what its request
 * described), and each server's own timeline.
 */

freezeTimeAt(new Date('2026-11-22T06:00:00.000Z'));

const CLUSTER = 'gpu-hybrid-cluster';

const open = (seed = loadSeed(DEFAULT_SEED)) => withServices(SandboxEstate.inMemory(seed));

/** Onboarding's activation and NodeConfig for `request`, fetched by the team: the server starts its join. */
async function handOut(estate: SandboxEstate, request: OnboardingRequest): Promise<string> {
  const { ActivationId, ActivationCode } = await estate.clients().ssm.send(
    new CreateActivationCommand({
      IamRole: 'AmazonEKSHybridNodesRole',
      RegistrationLimit: 1,
      DefaultInstanceName: request.node.name,
      Tags: [
        { Key: 'hybridops:node-name', Value: request.node.name },
        { Key: 'hybridops:node-ip', Value: request.node.ip },
      ],
    }),
  );
  const nodeConfig = nodeConfigYaml({
    request,
    requestId: `${request.node.name}-0123456789ab`,
    region: 'ap-northeast-2',
    labelPrefix: 'hybridops.io',
    activation: { id: ActivationId ?? '', code: ActivationCode ?? '' },
  });
  handOutNodeConfig(estate, JSON.stringify({ nodeConfig }));
  return ActivationId ?? '';
}

const request = (name: string, ip: string, gpus?: number): OnboardingRequest => ({
  cluster: CLUSTER,
  node: { name, ip, os: 'ubuntu-22.04' },
  ...(gpus ? { gpu: { vendor: 'nvidia' as const, model: 'h100', count: gpus } } : {}),
});

describe('a server the seed does not name', () => {
  it('has the IP its request gave, the GPUs its NodeConfig asks for and 28 vCPUs a GPU', async () => {
    const estate = open();
    const activationId = await handOut(estate, request('gpu-node-101', '192.168.10.150', 4));
    estate.advance(600);
    advanceOnPrem(estate);

    const server = estate.state.servers[activationId];
    expect(server).toMatchObject({ ip: '192.168.10.150', gpus: 4, vcpus: 112, platform: 'Ubuntu' });
    const instance = estate.state.instances[server?.instanceId ?? ''];
    expect(instance).toMatchObject({ ipAddress: '192.168.10.150', platformName: 'Ubuntu', platformVersion: '22.04' });
    const node = estate.state.nodes[server?.instanceId ?? ''];
    expect(node).toMatchObject({ internalIp: '192.168.10.150', ready: { status: 'True' } });
    expect(node?.capacity).toEqual({ cpu: '112', gpu: '4' });
  });

  it('has no GPU and 32 vCPUs when its request asks for none', async () => {
    const estate = open();
    const activationId = await handOut(estate, request('cpu-node-201', '192.168.10.201'));
    estate.advance(600);
    advanceOnPrem(estate);

    const server = estate.state.servers[activationId];
    expect(server).toMatchObject({ ip: '192.168.10.201', gpus: 0, vcpus: 32 });
    expect(estate.state.nodes[server?.instanceId ?? '']?.capacity).toEqual({ cpu: '32' });
  });

  it('is an 8-GPU server of 224 vCPUs, as the seed describes its PoC servers, when it asks for 8', async () => {
    const estate = open();
    const activationId = await handOut(estate, request('gpu-node-102', '192.168.10.151', 8));
    expect(estate.state.servers[activationId]).toMatchObject({ gpus: 8, vcpus: 224 });
  });
});

describe('a server the seed names', () => {
  it("is what the seed says, whatever its request gave (gpu-node-01's 8 GPUs, not the 2 asked)", async () => {
    const estate = open();
    const activationId = await handOut(estate, request('gpu-node-01', '192.168.10.99', 2));
    expect(estate.state.servers[activationId]).toMatchObject({ ip: '192.168.10.21', gpus: 8, vcpus: 224 });
  });
});

describe("each server's own timeline", () => {
  /** When the server registered, its Node appeared and turned Ready, in seconds from its hand-out. */
  async function timeline(estate: SandboxEstate, name: string, ip: string) {
    const activationId = await handOut(estate, request(name, ip, 8));
    const handedOut = Date.parse(estate.state.servers[activationId]?.handedOutAt ?? '');
    estate.advance(900);
    advanceOnPrem(estate);
    const server = estate.state.servers[activationId];
    const instance = estate.state.instances[server?.instanceId ?? ''];
    const seconds = (iso: string | undefined) => (Date.parse(iso ?? '') - handedOut) / 1000;
    return {
      registers: seconds(instance?.registrationDate),
      nodeAppears: seconds(server?.nodeCreatedAt),
      ready: seconds(server?.readyAt),
    };
  }

  it("adds an unnamed server's offset, from its name's hash, to each of the scenario's join timings", async () => {
    const offset = timelineOffsetSeconds('gpu-node-042');
    expect(offset).toBeGreaterThan(0); // else this test could not tell
    expect(offset).toBeLessThanOrEqual(MAX_TIMELINE_OFFSET_SECONDS);

    // joins: registers 20 s after its hand-out, the Node 15 s later, Ready 20 s after that.
    await expect(timeline(open(), 'gpu-node-042', '192.168.10.142')).resolves.toEqual({
      registers: 20 + offset,
      nodeAppears: 20 + 15 + 2 * offset,
      ready: 20 + 15 + 20 + 3 * offset,
    });
  });

  it("keeps gpu-node-01 (npm start) on the scenario's own timings, and gives gpu-node-05 the offset the seed pins", async () => {
    await expect(timeline(open(), 'gpu-node-01', '192.168.10.21')).resolves.toEqual({
      registers: 20,
      nodeAppears: 35,
      ready: 55,
    });
    await expect(timeline(open(), 'gpu-node-05', '192.168.10.25')).resolves.toEqual({
      registers: 20 + 13,
      nodeAppears: 35 + 2 * 13,
      ready: 55 + 3 * 13,
    });
  });

  it('spreads a 100-server fleet over the whole range, the same for a name in every run', () => {
    const names = Array.from({ length: 100 }, (_, i) => `gpu-node-${String(i + 1).padStart(3, '0')}`);
    const offsets = names.map(timelineOffsetSeconds);
    expect(new Set(offsets).size).toBeGreaterThan(25);
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(MAX_TIMELINE_OFFSET_SECONDS);
    expect(names.map(timelineOffsetSeconds)).toEqual(offsets);
  });
});

describe('a 100-server fleet', () => {
  it('joins gpu-node-001..100 at 192.168.10.101..200, inside the remote node network, each Ready with 8 GPUs', async () => {
    const estate = open();
    const servers = Array.from({ length: 100 }, (_, i) => ({
      name: `gpu-node-${String(i + 1).padStart(3, '0')}`,
      ip: `192.168.10.${101 + i}`,
    }));
    for (const s of servers) await handOut(estate, request(s.name, s.ip, 8));

    // The workflows poll; each read moves the world to the clock's now (15 s: the first poll's wait).
    const kube = sandboxKubeApi(estate)({
      name: CLUSTER,
      region: 'ap-northeast-2',
      endpoint: '',
      certificateAuthority: '',
    });
    const readyNodes = async () => {
      const nodes = [];
      for await (const page of kube.listHybridNodes()) nodes.push(...page);
      return nodes.filter((n) => n.ready?.status === 'True' && n.labels.gpu === 'h100');
    };
    for (let step = 0; step < 40 && (await readyNodes()).length < servers.length; step += 1) estate.advance(15);

    const ready = await readyNodes();
    expect(ready.map((n) => n.internalIps[0]).sort()).toEqual(servers.map((s) => s.ip).sort());
    const remote = estate.seed.clusters[0]?.remoteNodeCidrs.map(parseCidr) ?? [];
    expect(ready.every((n) => remote.some((cidr) => cidrContainsIp(cidr, n.internalIps[0] ?? '')))).toBe(true);
    // The join took each server its own time: not all in one step.
    const readyAt = new Set(Object.values(estate.state.servers).map((s) => s.readyAt));
    expect(readyAt.size).toBeGreaterThan(10);
    expect(Object.values(estate.state.servers).every((s) => s.gpus === 8 && s.vcpus === 224)).toBe(true);
  });
});
