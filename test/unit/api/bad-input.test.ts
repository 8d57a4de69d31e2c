/**
 * `POST /nodes` with malformed requests, through the real handler module: every one must answer
 * 400, name the field, say what is wrong and what is allowed, and start nothing.
 */
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DescribeInstanceInformationCommand, GetServiceSettingCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { apiEvent } from '#test/helpers/api-event';
import { run } from '#functions/api/submit-onboarding';
import { ManualClock } from '#lib/clock';
import type { Runtime } from '#lib/runtime';
import { registeredInstances, ssmTier } from '#test/helpers/onboarding-fixtures';

const REGION = 'ap-northeast-2';
const CLUSTER = 'gpu-hybrid-cluster';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:111122223333:stateMachine:onboard-node-test`;

const eksMock = mockClient(EKSClient);
const ec2Mock = mockClient(EC2Client);
const sfnMock = mockClient(SFNClient);
const ssmMock = mockClient(SSMClient);

/** The seed's reference architecture (REFERENCE.md section 2), as EKS and EC2 answer it. */
function answerAsTheReferenceCluster() {
  eksMock.on(DescribeClusterCommand, { name: CLUSTER }).resolves({
    cluster: {
      name: CLUSTER,
      arn: `arn:aws:eks:${REGION}:111122223333:cluster/${CLUSTER}`,
      status: 'ACTIVE',
      version: '1.33',
      endpoint: 'https://0123456789ABCDEF.gr7.ap-northeast-2.eks.amazonaws.com',
      certificateAuthority: { data: 'Q0E=' },
      resourcesVpcConfig: { vpcId: 'vpc-1' },
      kubernetesNetworkConfig: { serviceIpv4Cidr: '10.96.0.0/16' },
      remoteNetworkConfig: {
        remoteNodeNetworks: [{ cidrs: ['192.168.0.0/16'] }],
        remotePodNetworks: [{ cidrs: ['10.244.0.0/16'] }],
      },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    },
  });
  ec2Mock.on(DescribeVpcsCommand, { VpcIds: ['vpc-1'] }).resolves({
    Vpcs: [
      {
        VpcId: 'vpc-1',
        CidrBlockAssociationSet: [{ CidrBlock: '10.0.0.0/16', CidrBlockState: { State: 'associated' } }],
      },
    ],
  });
  sfnMock.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date('2026-11-22T00:00:00Z'),
  }));
}

function testRuntime(): Runtime {
  const config = { region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
  return {
    settings: {
      stage: 'test',
      region: REGION,
      clusterName: CLUSTER,
      hybridNodesRoleName: 'AmazonEKSHybridNodesRole',
      parameterPrefix: '/eks-hybrid-ops/test',
      labelPrefix: 'hybridops.io',
      onboardStateMachineArn: STATE_MACHINE_ARN,
    },
    // The real client factory: every client mockClient intercepts, loaded on first use.
    clients: createAllAwsClients(config),
    clock: new ManualClock('2026-11-22T00:00:00Z'),
    nodes: () => {
      throw new Error('POST /nodes must not read Kubernetes Nodes');
    },
    prober: {
      tcpConnectSamples: () => Promise.reject(new Error('POST /nodes must not probe anything')),
    },
  };
}

const post = (body: string | null): APIGatewayProxyEvent => apiEvent({ body });

/** A request body, loosely typed so each case can break it. */
interface Body {
  [field: string]: unknown;
  node: Record<string, unknown>;
  gpu: Record<string, unknown>;
  labels: Record<string, string>;
}

/** A valid body: the seed's GPU server. Each case breaks one thing in a fresh copy. */
const valid = (): Body => ({
  clientToken: 'gpu-node-01-poc-1',
  cluster: CLUSTER,
  node: { name: 'gpu-node-01', ip: '192.168.10.21', os: 'ubuntu-22.04', podCidr: '10.244.1.0/24' },
  gpu: { vendor: 'nvidia', model: 'h100', count: 8 },
  labels: { team: 'ml-platform', 'topology.kubernetes.io/zone': 'onprem-seoul-1' },
  activationExpiresInHours: 24,
});
const json = (change: (body: Body) => void): string => {
  const body = valid();
  change(body);
  return JSON.stringify(body);
};
const SUPPORTED = 'supported: ubuntu-20.04, ubuntu-22.04, ubuntu-24.04, rhel-8, rhel-9, al2023';

interface BadInput {
  name: string;
  body: string | null;
  field: string;
  message: string;
}

const cases: BadInput[] = [
  // The body as a whole.
  { name: 'empty body', body: '', field: '(body)', message: 'the body is empty; send a JSON onboarding request' },
  { name: 'no body at all', body: null, field: '(body)', message: 'the body is empty' },
  { name: 'not JSON', body: "{cluster: 'gpu-hybrid-cluster'}", field: '(body)', message: 'the body is not JSON' },
  {
    name: 'a JSON array',
    body: JSON.stringify([valid()]),
    field: '(body)',
    message: 'the body must be a JSON object with the fields clientToken, cluster, node',
  },
  { name: 'JSON null', body: 'null', field: '(body)', message: 'the body must be a JSON object' },
  {
    name: 'a body over 16 KiB',
    body: json((b) => {
      b.labels = { team: 'x'.repeat(17 * 1024) };
    }),
    field: '(body)',
    message: 'at most 16384',
  },
  {
    name: 'an unknown top-level field',
    body: json((b) => {
      b.zone = 'onprem-seoul-1';
    }),
    field: '(body)',
    message: "unknown field(s) 'zone'; allowed: clientToken, cluster, node, kubernetesVersion, gpu, labels, taints",
  },
  // cluster
  {
    name: 'missing cluster',
    body: json((b) => {
      delete b.cluster;
    }),
    field: 'cluster',
    message: 'cluster is required: the EKS cluster name',
  },
  {
    name: 'a cluster that is not this stage’s cluster',
    body: json((b) => {
      b.cluster = 'prod-cluster';
    }),
    field: 'cluster',
    message: "this deployment onboards nodes into 'gpu-hybrid-cluster' only",
  },
  {
    name: 'a cluster name that is not an EKS name',
    body: json((b) => {
      b.cluster = 'gpu hybrid cluster';
    }),
    field: 'cluster',
    message: 'cluster must be an EKS cluster name: 1-100 letters, digits, - and _',
  },
  // node
  {
    name: 'missing node',
    body: JSON.stringify({ ...valid(), node: undefined }),
    field: 'node',
    message: 'node is required: {name, ip, os}',
  },
  {
    name: 'node as a string',
    body: JSON.stringify({ ...valid(), node: 'gpu-node-01' }),
    field: 'node',
    message: 'node must be an object: {name, ip, os}',
  },
  {
    name: 'an unknown field in node',
    body: json((b) => {
      Object.assign(b.node, { hostname: 'gpu-node-01.company.local' });
    }),
    field: 'node',
    message: "unknown field(s) 'hostname'; allowed: name, ip, os, podCidr",
  },
  {
    name: 'missing node.name',
    body: json((b) => {
      delete b.node.name;
    }),
    field: 'node.name',
    message: 'node.name is required: a DNS label such as gpu-node-01',
  },
  {
    name: 'node.name with upper case',
    body: json((b) => {
      b.node.name = 'GPU-Node-01';
    }),
    field: 'node.name',
    message: 'node.name must be a DNS label: 1-63 lower-case letters, digits and -',
  },
  {
    name: 'node.name with an underscore',
    body: json((b) => {
      b.node.name = 'gpu_node_01';
    }),
    field: 'node.name',
    message: 'node.name must be a DNS label: 1-63 lower-case letters, digits and -',
  },
  {
    name: 'node.name of 64 characters',
    body: json((b) => {
      b.node.name = `gpu-${'n'.repeat(60)}`;
    }),
    field: 'node.name',
    message: 'node.name must be a DNS label: 1-63',
  },
  {
    name: 'missing node.ip',
    body: json((b) => {
      delete b.node.ip;
    }),
    field: 'node.ip',
    message: 'node.ip is required: the IPv4 address the node will use',
  },
  {
    name: 'node.ip as a number',
    body: json((b) => {
      b.node.ip = 3232238101;
    }),
    field: 'node.ip',
    message: 'node.ip must be a string: the IPv4 address the node will use',
  },
  {
    name: 'node.ip not a dotted quad',
    body: json((b) => {
      b.node.ip = '192.168.10';
    }),
    field: 'node.ip',
    message: 'node.ip must be an IPv4 address such as 192.168.10.21',
  },
  {
    name: 'node.ip outside the remote node network (a VPC address)',
    body: json((b) => {
      b.node.ip = '10.0.0.5';
    }),
    field: 'node.ip',
    message:
      'Node IP 10.0.0.5 is outside the remote node networks of gpu-hybrid-cluster (192.168.0.0/16). Fix: Use the node address inside a remote node CIDR',
  },
  {
    name: 'node.podCidr outside the remote pod network',
    body: json((b) => {
      b.node.podCidr = '10.245.1.0/24';
    }),
    field: 'node.podCidr',
    message: 'Pod CIDR 10.245.1.0/24 is not inside a remote pod network of gpu-hybrid-cluster (10.244.0.0/16)',
  },
  {
    name: 'node.podCidr with host bits set',
    body: json((b) => {
      b.node.podCidr = '10.244.1.5/24';
    }),
    field: 'node.podCidr',
    message: "'10.244.1.5/24' has host bits set; the network address is 10.244.1.0/24",
  },
  {
    name: 'missing node.os',
    body: json((b) => {
      delete b.node.os;
    }),
    field: 'node.os',
    message: 'node.os is required: the OS id, such as ubuntu-22.04',
  },
  {
    name: 'node.os rocky-9',
    body: json((b) => {
      b.node.os = 'rocky-9';
    }),
    field: 'node.os',
    message: `Rocky Linux is not supported for EKS Hybrid Nodes (it is outside AWS Support); ${SUPPORTED}`,
  },
  {
    name: 'node.os bottlerocket',
    body: json((b) => {
      b.node.os = 'bottlerocket';
    }),
    field: 'node.os',
    message: `Bottlerocket is no longer supported for hybrid nodes joined with nodeadm; ${SUPPORTED}`,
  },
  {
    name: 'node.os windows-2022',
    body: json((b) => {
      b.node.os = 'windows-2022';
    }),
    field: 'node.os',
    message: `'windows-2022' is not a supported hybrid node OS; ${SUPPORTED}`,
  },
  {
    name: 'node.os centos-7',
    body: json((b) => {
      b.node.os = 'centos-7';
    }),
    field: 'node.os',
    message: `this OS is not on the EKS Hybrid Nodes support list; ${SUPPORTED}`,
  },
  // activation expiry
  {
    name: 'activationExpiresInHours over 720',
    body: json((b) => {
      b.activationExpiresInHours = 721;
    }),
    field: 'activationExpiresInHours',
    message: 'activationExpiresInHours must be at most 720 (30 days, the SSM limit)',
  },
  {
    name: 'activationExpiresInHours 0',
    body: json((b) => {
      b.activationExpiresInHours = 0;
    }),
    field: 'activationExpiresInHours',
    message: 'activationExpiresInHours must be at least 1',
  },
  {
    name: 'activationExpiresInHours fractional',
    body: json((b) => {
      b.activationExpiresInHours = 1.5;
    }),
    field: 'activationExpiresInHours',
    message: 'activationExpiresInHours must be a whole number of hours',
  },
  // labels
  {
    name: 'labels as an array',
    body: JSON.stringify({ ...valid(), labels: ['gpu=h100'] }),
    field: 'labels',
    message: 'labels must be an object: label key: value strings',
  },
  {
    name: 'a label key with a space',
    body: json((b) => {
      b.labels = { 'gpu model': 'h100' };
    }),
    field: 'labels.gpu model',
    message: "label key 'gpu model': name 'gpu model' must be 1-63 characters of alphanumerics, '-', '_' or '.'",
  },
  {
    name: 'a label value of 64 characters',
    body: json((b) => {
      b.labels.team = 'm'.repeat(64);
    }),
    field: 'labels.team',
    message: `label value '${'m'.repeat(64)}' must be at most 63 characters of alphanumerics`,
  },
  {
    name: 'more than 32 labels',
    body: json((b) => {
      b.labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'x']));
    }),
    field: 'labels',
    message: 'at most 32 labels',
  },
  {
    name: 'the reserved label kubernetes.io/role',
    body: json((b) => {
      b.labels = { 'kubernetes.io/role': 'gpu' };
    }),
    field: 'labels.kubernetes.io/role',
    message: "prefix 'kubernetes.io' is reserved (kubernetes.io); a kubelet may not set it on its own Node",
  },
  {
    name: 'a label under eks.amazonaws.com',
    body: json((b) => {
      b.labels = { 'eks.amazonaws.com/compute-type': 'hybrid' };
    }),
    field: 'labels.eks.amazonaws.com/compute-type',
    message: "prefix 'eks.amazonaws.com' is reserved",
  },
  {
    name: "a label under the project's own prefix hybridops.io",
    body: json((b) => {
      b.labels = { 'hybridops.io/x': 'y' };
    }),
    field: 'labels.hybridops.io/x',
    message: "prefix 'hybridops.io' is reserved for labels this project sets",
  },
  // taints
  {
    name: 'a taint with an unknown effect',
    body: json((b) => {
      b.taints = [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoPanic' }];
    }),
    field: 'taints.0.effect',
    message: 'effect must be one of NoSchedule, PreferNoSchedule, NoExecute',
  },
  {
    name: 'more than 16 taints',
    body: json((b) => {
      b.taints = Array.from({ length: 17 }, (_, i) => ({ key: `t${i}`, effect: 'NoSchedule' }));
    }),
    field: 'taints',
    message: 'at most 16 taints',
  },
  // gpu
  {
    name: 'gpu.vendor amd',
    body: json((b) => {
      b.gpu.vendor = 'amd';
    }),
    field: 'gpu.vendor',
    message: 'gpu.vendor must be nvidia (the only GPU runtime the NodeConfig sets up)',
  },
  {
    name: 'gpu.count as a string',
    body: json((b) => {
      b.gpu.count = '8';
    }),
    field: 'gpu.count',
    message: 'gpu.count must be a number',
  },
  {
    name: 'gpu.count 0',
    body: json((b) => {
      b.gpu.count = 0;
    }),
    field: 'gpu.count',
    message: 'gpu.count must be at least 1',
  },
  {
    name: 'gpu.count 17',
    body: json((b) => {
      b.gpu.count = 17;
    }),
    field: 'gpu.count',
    message: 'gpu.count must be at most 16',
  },
  {
    name: 'gpu.smokeTest as a string',
    body: json((b) => {
      b.gpu.smokeTest = 'yes';
    }),
    field: 'gpu.smokeTest',
    message:
      'gpu.smokeTest must be true or false: true runs nvidia-smi in a pod on the node once its GPUs are verified',
  },
  {
    name: 'gpu.smokeTest as 1',
    body: json((b) => {
      b.gpu.smokeTest = 1;
    }),
    field: 'gpu.smokeTest',
    message: 'gpu.smokeTest must be true or false',
  },
  {
    name: 'gpu with an unknown field beside smokeTest',
    body: json((b) => {
      b.gpu.smokeTests = true;
    }),
    field: 'gpu',
    message: "unknown field(s) 'smokeTests'; allowed: vendor, model, count, smokeTest",
  },
  // kubernetesVersion
  {
    name: 'kubernetesVersion newer than the cluster',
    body: json((b) => {
      b.kubernetesVersion = '1.34';
    }),
    field: 'kubernetesVersion',
    message: 'kubelet 1.34 cannot join a 1.33 control plane; allowed: 1.30 to 1.33',
  },
  {
    name: 'kubernetesVersion four minors older than the cluster',
    body: json((b) => {
      b.kubernetesVersion = '1.29';
    }),
    field: 'kubernetesVersion',
    message: 'kubelet 1.29 cannot join a 1.33 control plane; allowed: 1.30 to 1.33',
  },
  {
    name: 'kubernetesVersion latest',
    body: json((b) => {
      b.kubernetesVersion = 'latest';
    }),
    field: 'kubernetesVersion',
    message: 'kubernetesVersion must look like 1.31',
  },
  // clientToken
  {
    name: 'clientToken with spaces',
    body: json((b) => {
      b.clientToken = 'gpu node 01';
    }),
    field: 'clientToken',
    message: 'clientToken must be 1-64 characters of letters, digits, and . _ : -',
  },
];

interface Answer {
  message: string;
  problems: Array<{ field: string; message: string }>;
}

describe('POST /nodes with bad input', () => {
  beforeEach(() => {
    eksMock.reset();
    ec2Mock.reset();
    sfnMock.reset();
    ssmMock.reset();
    answerAsTheReferenceCluster();
    ssmMock.on(GetServiceSettingCommand).resolves(ssmTier());
    ssmMock.on(DescribeInstanceInformationCommand).resolves(registeredInstances());
  });

  it('has at least 30 bad-input cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('starts an onboarding for the valid control request (so the cases below can fail)', async () => {
    const result = await run(post(JSON.stringify(valid())), testRuntime());

    expect(result.statusCode).toBe(202);
    const body = JSON.parse(result.body) as { requestId: string; executionArn: string };
    expect(body.requestId).toMatch(/^gpu-node-01-poc-1-[0-9a-f]{12}$/);
    expect(body.executionArn).toBe(
      `arn:aws:states:${REGION}:111122223333:execution:onboard-node-test:${body.requestId}`,
    );
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: body.requestId,
    });
    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toMatchObject({
      requestId: body.requestId,
      requester: 'arn:aws:iam::111122223333:user/alice',
      request: valid(),
    });
  });

  it.each(cases)('answers 400 for $name: $field', async ({ body, field, message }) => {
    const result = await run(post(body), testRuntime());

    expect(result.statusCode).toBe(400);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json' });
    const answer = JSON.parse(result.body) as Answer;
    expect(answer.message).toMatch(/problem\(s\); nothing was started\.$/);
    expect(answer.problems).toContainEqual({ field, message: expect.stringContaining(message) });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('lists every shape problem in one body', async () => {
    const body = json((b) => {
      b.clientToken = 'gpu node 01';
      b.node = { name: 'GPU_01', ip: '10.0.0', os: 'rocky-9', podCidr: '10.244.1.1/24' };
      b.gpu = { vendor: 'amd', model: 'mi300x', count: 0 };
      b.labels = { 'kubernetes.io/role': 'gpu' };
      b.activationExpiresInHours = 1000;
    });

    const result = await run(post(body), testRuntime());

    expect(result.statusCode).toBe(400);
    const answer = JSON.parse(result.body) as Answer;
    expect(answer.problems.map((p) => p.field).sort()).toEqual([
      'activationExpiresInHours',
      'clientToken',
      'gpu.count',
      'gpu.vendor',
      'labels.kubernetes.io/role',
      'node.ip',
      'node.name',
      'node.os',
      'node.podCidr',
    ]);
    expect(answer.message).toBe('The onboarding request has 9 problem(s); nothing was started.');
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('lists every way the node does not fit the cluster in one answer', async () => {
    const body = json((b) => {
      b.node.ip = '10.0.0.5';
      b.node.podCidr = '10.96.1.0/24';
      b.kubernetesVersion = '1.29';
    });

    const result = await run(post(body), testRuntime());

    expect(result.statusCode).toBe(400);
    const answer = JSON.parse(result.body) as Answer;
    expect(answer.problems).toEqual([
      { field: 'node.ip', message: expect.stringContaining('Node IP 10.0.0.5 is outside the remote node networks') },
      { field: 'node.podCidr', message: expect.stringContaining('Pod CIDR 10.96.1.0/24 is not inside') },
      { field: 'kubernetesVersion', message: expect.stringContaining('allowed: 1.30 to 1.33') },
    ]);
    expect(eksMock).toHaveReceivedCommandWith(DescribeClusterCommand, { name: CLUSTER });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('lists cluster-fit problems of well-formed fields beside the shape problems of the others', async () => {
    const body = json((b) => {
      b.node.os = 'rocky-9'; // a shape problem
      b.node.ip = '10.0.0.5'; // well-formed, but outside the remote node network
      b.labels = { 'kubernetes.io/role': 'gpu' }; // a shape problem
    });

    const answer = JSON.parse((await run(post(body), testRuntime())).body) as Answer;

    expect(answer.problems.map((p) => p.field).sort()).toEqual(['labels.kubernetes.io/role', 'node.ip', 'node.os']);
    expect(answer.problems.find((p) => p.field === 'node.ip')?.message).toContain('outside the remote node networks');
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('decodes a base64 body before judging it', async () => {
    const event = post(Buffer.from(json((b) => (b.node.os = 'bottlerocket'))).toString('base64'));
    event.isBase64Encoded = true;

    const result = await run(event, testRuntime());

    expect(result.statusCode).toBe(400);
    expect((JSON.parse(result.body) as Answer).problems).toEqual([
      { field: 'node.os', message: expect.stringContaining('Bottlerocket is no longer supported') },
    ]);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
