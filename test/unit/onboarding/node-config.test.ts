import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parse } from 'yaml';
import { ManualClock } from '#lib/clock';
import { ActivationCodeMissingError } from '#lib/errors';
import { nodeadmCommands, nodeConfigYaml, renderNodeConfig } from '#lib/onboarding/node-config';
import type { OnboardingRequestBody } from '#lib/onboarding/request';
import {
  ACTIVATION_ID,
  CODE_PARAMETER,
  cpuRequestBody,
  gpuRequestBody,
  NODE_CONFIG_PARAMETER,
  parseRequest,
  REQUEST_ID,
  settings,
} from '#test/helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);
const CODE = 'TEST-ACTIVATION-CODE-0123456789';

/**
 * spec.containerd.config of the seed's GPU NodeConfig, as REFERENCE.md section 1 gives it, plus
 * `SystemdCgroup = true` in the nvidia runtime's options (REFERENCE.md section 8: nodeadm runs
 * kubelet with `cgroupDriver: systemd`; the seed omits it).
 */
const EXPECTED_NVIDIA_CONTAINERD_CONFIG = [
  'version = 2',
  '[plugins."io.containerd.grpc.v1.cri".containerd]',
  '  default_runtime_name = "nvidia"',
  '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]',
  '    privileged_without_host_devices = false',
  '    runtime_type = "io.containerd.runc.v2"',
  '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]',
  '      BinaryName = "/usr/bin/nvidia-container-runtime"',
  '      SystemdCgroup = true',
  '',
].join('\n');

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

/**
 * The `key = value` pairs of each `[table]` of a flat TOML document (no inline tables or arrays,
 * which this config does not use), values as TOML literals: `"nvidia"`, `true`.
 */
function tomlTables(toml: string): Record<string, Record<string, string>> {
  const tables: Record<string, Record<string, string>> = { '': {} };
  let current = '';
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) {
      current = header[1];
      tables[current] ??= {};
      continue;
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!pair?.[1] || !pair[2]) throw new Error(`not a TOML table or key/value line: ${raw}`);
    const table = tables[current] ?? {};
    table[pair[1]] = pair[2];
    tables[current] = table;
  }
  return tables;
}

interface NodeConfigDoc {
  apiVersion: string;
  kind: string;
  spec: {
    cluster: { name: string; region: string };
    hybrid: { ssm: { activationCode: string; activationId: string } };
    kubelet: { config: { maxPods: number; shutdownGracePeriod: string }; flags: string[] };
    containerd?: { config: string };
  };
}

const render = (body: OnboardingRequestBody) =>
  parse(
    nodeConfigYaml({
      request: parseRequest(body),
      requestId: REQUEST_ID,
      region: 'ap-northeast-2',
      labelPrefix: 'hybridops.io',
      activation: { id: ACTIVATION_ID, code: CODE },
    }),
  ) as NodeConfigDoc;

/** The value of one `--flag=` in the kubelet flags, or undefined. */
const flag = (doc: NodeConfigDoc, name: string) =>
  doc.spec.kubelet.flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);

/** `--node-labels=a=1,b=2` as a record. */
const nodeLabels = (doc: NodeConfigDoc) =>
  Object.fromEntries((flag(doc, '--node-labels') ?? '').split(',').map((pair) => pair.split('=') as [string, string]));

describe('nodeConfigYaml', () => {
  it('renders a node.eks.aws/v1alpha1 NodeConfig for the cluster with the SSM activation', () => {
    const doc = render(gpuRequestBody());

    expect(doc.apiVersion).toBe('node.eks.aws/v1alpha1');
    expect(doc.kind).toBe('NodeConfig');
    expect(doc.spec.cluster).toEqual({ name: 'gpu-hybrid-cluster', region: 'ap-northeast-2' });
    expect(doc.spec.hybrid).toEqual({ ssm: { activationCode: CODE, activationId: ACTIVATION_ID } });
    expect(doc.spec.kubelet.config).toEqual({ maxPods: 110, shutdownGracePeriod: '30s' });
  });

  it('gives a GPU node the seed labels, the user labels, the request label and the GPU taint', () => {
    const doc = render(gpuRequestBody());

    expect(doc.spec.kubelet.flags).toHaveLength(2);
    expect(nodeLabels(doc)).toEqual({
      'node-type': 'hybrid',
      gpu: 'h100',
      'gpu-count': '8',
      team: 'ml-platform',
      'topology.kubernetes.io/zone': 'onprem-seoul-1',
      'hybridops.io/request-id': REQUEST_ID,
    });
    expect(flag(doc, '--register-with-taints')).toBe('nvidia.com/gpu=present:NoSchedule');
  });

  it('sets up the NVIDIA container runtime as the seed GPU NodeConfig does, with SystemdCgroup', () => {
    expect(render(gpuRequestBody()).spec.containerd).toEqual({ config: EXPECTED_NVIDIA_CONTAINERD_CONFIG });
  });

  it('runs the default nvidia runtime under the systemd cgroup driver that nodeadm gives kubelet', () => {
    const tables = tomlTables(render(gpuRequestBody()).spec.containerd?.config ?? '');

    expect(tables[`${CRI}.containerd`]).toEqual({ default_runtime_name: '"nvidia"' });
    expect(tables[`${CRI}.containerd.runtimes.nvidia`]).toMatchObject({ runtime_type: '"io.containerd.runc.v2"' });
    expect(tables[`${CRI}.containerd.runtimes.nvidia.options`]).toEqual({
      BinaryName: '"/usr/bin/nvidia-container-runtime"',
      SystemdCgroup: 'true',
    });
  });

  it('gives a CPU node no containerd section and no taints', () => {
    const doc = render(cpuRequestBody());

    expect(doc.spec).not.toHaveProperty('containerd');
    expect(doc.spec.kubelet.flags).toEqual([`--node-labels=hybridops.io/request-id=${REQUEST_ID}`]);
  });

  it('registers a CPU node with the taints it was asked for', () => {
    const doc = render({
      ...cpuRequestBody(),
      taints: [
        { key: 'dedicated', value: 'ml', effect: 'NoSchedule' },
        { key: 'example.com/maintenance', effect: 'NoExecute' },
      ],
    });

    expect(flag(doc, '--register-with-taints')).toBe('dedicated=ml:NoSchedule,example.com/maintenance:NoExecute');
    expect(doc.spec).not.toHaveProperty('containerd');
  });

  it('does not add a second nvidia.com/gpu taint when the request brings its own', () => {
    const doc = render({ ...gpuRequestBody(), taints: [{ key: 'nvidia.com/gpu', effect: 'NoExecute' }] });

    expect(flag(doc, '--register-with-taints')).toBe('nvidia.com/gpu:NoExecute');
  });

  it('uses the requested maxPods', () => {
    expect(render({ ...cpuRequestBody(), maxPods: 250 }).spec.kubelet.config.maxPods).toBe(250);
  });
});

describe('nodeadmCommands', () => {
  it('leaves the NodeConfig where nodeadm upgrade finds it, installs the requested version with SSM, then inits from it', () => {
    expect(nodeadmCommands('1.31')).toEqual([
      'sudo install -d -m 0700 /etc/eks-hybrid-ops && sudo install -m 0600 nodeConfig.yaml /etc/eks-hybrid-ops/nodeConfig.yaml && rm -f nodeConfig.yaml',
      'sudo nodeadm install 1.31 --credential-provider ssm',
      'sudo nodeadm init -c file:///etc/eks-hybrid-ops/nodeConfig.yaml',
    ]);
  });
});

describe('renderNodeConfig', () => {
  beforeEach(() => ssmMock.reset());

  const deps = () => ({
    ssm: new SSMClient({ region: 'ap-northeast-2' }),
    settings: settings(),
    clock: new ManualClock('2026-11-22T00:00:07Z'),
  });
  const input = (body: OnboardingRequestBody = gpuRequestBody()) => ({
    request: parseRequest(body),
    requestId: REQUEST_ID,
    activationId: ACTIVATION_ID,
    kubernetesVersion: '1.33',
  });
  const puts = () => ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input);

  it('reads the code decrypted and stores NodeConfig and commands as one Standard SecureString', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: CODE_PARAMETER, Value: CODE } });
    ssmMock.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Standard' });

    const result = await renderNodeConfig(deps(), input());

    expect(ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345/activation-code', WithDecryption: true },
    ]);
    expect(puts()).toEqual([
      {
        Name: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345/node-config',
        Type: 'SecureString',
        Value: expect.any(String),
        Overwrite: true,
        Tier: 'Standard',
        Description: `nodeadm NodeConfig for onboarding request ${REQUEST_ID}`,
      },
    ]);
    const stored = JSON.parse(puts()[0]?.Value ?? '{}') as { nodeConfig: string; commands: string[] };
    const doc = parse(stored.nodeConfig) as NodeConfigDoc;
    expect(doc.spec.hybrid.ssm).toEqual({ activationCode: CODE, activationId: ACTIVATION_ID });
    expect(nodeLabels(doc)['hybridops.io/request-id']).toBe(REQUEST_ID);
    expect(stored.commands).toEqual(nodeadmCommands('1.33'));
    expect(stored.commands.at(-1)).toBe('sudo nodeadm init -c file:///etc/eks-hybrid-ops/nodeConfig.yaml');

    expect(result).toEqual({
      parameterName: NODE_CONFIG_PARAMETER,
      renderedAt: '2026-11-22T00:00:07.000Z',
      bytes: Buffer.byteLength(puts()[0]?.Value ?? '', 'utf8'),
      commands: stored.commands,
    });
    expect(JSON.stringify(result)).not.toContain(CODE);
  });

  it('stores a NodeConfig too large for a Standard parameter in the Advanced tier', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: CODE } });
    ssmMock.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Advanced' });
    const long = (i: number) => `value-${i}-`.padEnd(62, 'x').concat('z');
    const labels = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`example.com/label-${i}`, long(i)]));
    const taints = Array.from({ length: 16 }, (_, i) => ({
      key: `example.com/taint-${i}`,
      value: long(i),
      effect: 'NoSchedule' as const,
    }));

    const result = await renderNodeConfig(deps(), input({ ...gpuRequestBody(), labels, taints }));

    expect(result.bytes).toBeGreaterThan(4096);
    expect(puts()[0]?.Tier).toBe('Advanced');
  });

  it('fails with ActivationCodeMissingError when the code parameter is gone, storing nothing', async () => {
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ $metadata: {}, message: 'not found' }));

    const attempt = renderNodeConfig(deps(), input());

    await expect(attempt).rejects.toBeInstanceOf(ActivationCodeMissingError);
    await expect(attempt).rejects.toThrow(`The activation code parameter ${CODE_PARAMETER} is gone.`);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('fails with ActivationCodeMissingError when the code parameter is empty', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: CODE_PARAMETER } });

    await expect(renderNodeConfig(deps(), input())).rejects.toBeInstanceOf(ActivationCodeMissingError);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('passes on other SSM errors (KMS access, throttling) as they are', async () => {
    ssmMock.on(GetParameterCommand).rejects(
      new SSMServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: {},
        message: 'Rate exceeded',
      }),
    );

    await expect(renderNodeConfig(deps(), input())).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });
});
