/**
 * `POST /fleets` through the real handler module: every bad body answers 400 naming the server's
 * index and field, saying what is wrong and what is allowed, and starts nothing (no manifest, no
 * execution); a good one writes the manifest, then starts one execution, and a retry is the same
 * fleet.
 */
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  DescribeInstanceInformationCommand,
  GetParametersCommand,
  GetServiceSettingCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { run } from '#functions/api/submit-fleet';
import { memberRequestId } from '#lib/fleets/request';
import type { FleetInput, FleetManifest } from '#lib/fleets/state';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { ManualClock } from '#lib/clock';
import type { Runtime } from '#lib/runtime';
import { apiEvent } from '#test/helpers/api-event';
import {
  ACCOUNT,
  CLUSTER,
  eksCluster,
  PARAMETER_PREFIX,
  REGION,
  registeredInstances,
  seedVpcs,
  ssmTier,
  STATE_MACHINE_ARN,
  VPC_ID,
} from '#test/helpers/onboarding-fixtures';

const FLEET_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:onboard-fleet-test`;
const BUCKET = 'store-bucket';

const eksMock = mockClient(EKSClient);
const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);
const s3Mock = mockClient(S3Client);
const sfnMock = mockClient(SFNClient);

function answerAsTheReferenceCluster() {
  eksMock.on(DescribeClusterCommand, { name: CLUSTER }).resolves({ cluster: eksCluster() });
  ec2Mock.on(DescribeVpcsCommand, { VpcIds: [VPC_ID] }).resolves(seedVpcs());
  ssmMock.on(GetServiceSettingCommand).resolves(ssmTier());
  ssmMock.on(DescribeInstanceInformationCommand).resolves(registeredInstances(3));
  ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
    Parameters: [],
    InvalidParameters: input.Names,
  }));
  s3Mock.on(PutObjectCommand).resolves({});
  sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'none' }));
  sfnMock.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({
    executionArn: `${FLEET_MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date('2026-11-22T00:00:00Z'),
  }));
}

function testRuntime(): Runtime {
  return {
    settings: {
      stage: 'test',
      region: REGION,
      clusterName: CLUSTER,
      hybridNodesRoleName: 'AmazonEKSHybridNodesRole',
      parameterPrefix: PARAMETER_PREFIX,
      labelPrefix: 'hybridops.io',
      onboardStateMachineArn: STATE_MACHINE_ARN,
      fleetStateMachineArn: FLEET_MACHINE,
      storeBucket: BUCKET,
    },
    clients: createAllAwsClients({ region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 's' } }),
    clock: new ManualClock('2026-11-22T00:00:00Z'),
    nodes: () => {
      throw new Error('POST /fleets must not read Kubernetes Nodes');
    },
    prober: { tcpConnectSamples: () => Promise.reject(new Error('POST /fleets must not probe anything')) },
  };
}

const post = (body: string | null): APIGatewayProxyEvent => apiEvent({ body, path: '/fleets', resource: '/fleets' });

type Body = Record<string, unknown>;
type Server = Record<string, unknown>;
/** The seed's PoC: gpu-node-01..03 of it, 8 H100 each by default. */
const server = (n: number): Server => ({
  name: `gpu-node-0${n}`,
  ip: `192.168.10.${20 + n}`,
  os: 'ubuntu-22.04',
  podCidr: `10.244.${n}.0/24`,
});
const valid = (): Body => ({
  clientToken: 'poc-fleet-1',
  cluster: CLUSTER,
  defaults: {
    gpu: { vendor: 'nvidia', model: 'h100', count: 8 },
    labels: { team: 'ml-platform', 'topology.kubernetes.io/zone': 'onprem-seoul-1' },
    activationExpiresInHours: 24,
  },
  servers: [server(1), server(2), server(3)],
  maxConcurrency: 10,
});
const json = (change: (body: Body & { servers: Server[]; defaults: Body }) => void): string => {
  const body = valid() as Body & { servers: Server[]; defaults: Body };
  change(body);
  return JSON.stringify(body);
};

interface BadInput {
  name: string;
  body: string | null;
  field: string;
  message: string;
  /** Set the cluster's answer or the locks before the call. */
  arrange?: () => void;
}

const cases: BadInput[] = [
  { name: 'empty body', body: '', field: '(body)', message: 'the body is empty' },
  { name: 'not JSON', body: '{servers: []}', field: '(body)', message: 'the body is not JSON' },
  { name: 'a JSON array', body: '[]', field: '(body)', message: 'the body must be a JSON object {cluster, servers' },
  {
    name: 'a body over 128 KiB',
    body: json((b) => {
      b.defaults.labels = { note: 'x'.repeat(63) };
      b.padding = 'x'.repeat(130 * 1024);
    }),
    field: '(body)',
    message: 'at most 131072',
  },
  {
    name: 'an unknown top-level field',
    body: json((b) => {
      b.nodes = [];
    }),
    field: '(body)',
    message: "unknown field(s) 'nodes' in the fleet; allowed: clientToken, cluster, defaults, servers, maxConcurrency",
  },
  {
    name: 'no servers',
    body: json((b) => {
      delete (b as Body).servers;
    }),
    field: 'servers',
    message: 'servers is required: a list of {name, ip, os} (1-100 servers)',
  },
  {
    name: 'an empty server list',
    body: json((b) => {
      b.servers = [];
    }),
    field: 'servers',
    message: 'servers must list at least one server',
  },
  {
    name: '101 servers',
    body: json((b) => {
      b.servers = Array.from({ length: 101 }, (_, i) => ({
        name: `n-${i}`,
        ip: `192.168.${Math.floor(i / 200) + 11}.${(i % 200) + 1}`,
        os: 'ubuntu-22.04',
      }));
    }),
    field: 'servers',
    message: 'servers may list at most 100 servers a call',
  },
  {
    name: 'maxConcurrency over 40',
    body: json((b) => {
      b.maxConcurrency = 41;
    }),
    field: 'maxConcurrency',
    message: 'maxConcurrency must be 1-40 (the most servers a fleet onboards at once)',
  },
  {
    name: 'maxConcurrency 0',
    body: json((b) => {
      b.maxConcurrency = 0;
    }),
    field: 'maxConcurrency',
    message: 'maxConcurrency must be 1-40',
  },
  {
    name: 'an unknown server field',
    body: json((b) => {
      (b.servers[1] as Server).role = 'worker';
    }),
    field: 'servers[1]',
    message: "unknown field(s) 'role' in servers[1]; allowed: name, ip, os, podCidr, gpu, labels",
  },
  {
    name: 'an unknown defaults field',
    body: json((b) => {
      b.defaults.node = {};
    }),
    field: 'defaults',
    message: "unknown field(s) 'node' in defaults; allowed: kubernetesVersion, labels, taints, gpu, maxPods",
  },
  {
    name: 'a server that is not an object',
    body: json((b) => {
      (b.servers as unknown[])[2] = 'gpu-node-03';
    }),
    field: 'servers[2]',
    message: 'each server must be an object {name, ip, os, podCidr?, gpu?, labels?}',
  },
  {
    name: 'a bad IP on server 3',
    body: json((b) => {
      b.servers.push({ ...server(4), ip: '192.168.10.300' });
    }),
    field: 'servers[3].ip',
    message: 'servers[3].ip must be an IPv4 address such as 192.168.10.21',
  },
  {
    name: 'a missing name',
    body: json((b) => {
      delete (b.servers[0] as Server).name;
    }),
    field: 'servers[0].name',
    message: 'servers[0].name is required: a DNS label such as gpu-node-01',
  },
  {
    name: 'an unsupported OS',
    body: json((b) => {
      (b.servers[2] as Server).os = 'windows-2022';
    }),
    field: 'servers[2].os',
    message: 'windows',
  },
  {
    name: 'a malformed pod CIDR',
    body: json((b) => {
      (b.servers[1] as Server).podCidr = '10.244.2.0/33';
    }),
    field: 'servers[1].podCidr',
    message: 'servers[1].podCidr must be an IPv4 network such as 10.244.1.0/24',
  },
  {
    name: 'a duplicate name',
    body: json((b) => {
      (b.servers[2] as Server).name = 'gpu-node-01';
    }),
    field: 'servers[2].name',
    message: "'gpu-node-01' is also servers[0].name: each server of a fleet needs its own name",
  },
  {
    name: 'a duplicate IP',
    body: json((b) => {
      (b.servers[1] as Server).ip = '192.168.10.21';
    }),
    field: 'servers[1].ip',
    message: "'192.168.10.21' is also servers[0].ip: each server of a fleet needs its own IP address",
  },
  {
    name: 'overlapping pod CIDRs',
    body: json((b) => {
      (b.servers[2] as Server).podCidr = '10.244.0.0/22';
    }),
    field: 'servers[2].podCidr',
    message: '10.244.0.0/22 overlaps servers[0].podCidr 10.244.1.0/24: each server needs a pod CIDR of its own',
  },
  {
    name: 'a bad default GPU count (reported once, at the default)',
    body: json((b) => {
      b.defaults.gpu = { vendor: 'nvidia', model: 'h100', count: 17 };
    }),
    field: 'defaults.gpu.count',
    message: 'gpu.count must be at most 16',
  },
  {
    name: "a server's own bad GPU",
    body: json((b) => {
      (b.servers[1] as Server).gpu = { vendor: 'amd', model: 'mi300', count: 8 };
    }),
    field: 'servers[1].gpu.vendor',
    message: 'gpu.vendor must be nvidia',
  },
  {
    name: 'a reserved label on one server',
    body: json((b) => {
      (b.servers[0] as Server).labels = { 'hybridops.io/request-id': 'mine' };
    }),
    field: 'servers[0].labels.hybridops.io/request-id',
    message: 'hybridops.io',
  },
  {
    name: 'a default activation expiry over 30 days',
    body: json((b) => {
      b.defaults.activationExpiresInHours = 721;
    }),
    field: 'defaults.activationExpiresInHours',
    message: 'activationExpiresInHours must be at most 720 (30 days, the SSM limit)',
  },
  {
    name: 'a bad client token',
    body: json((b) => {
      b.clientToken = 'poc fleet';
    }),
    field: 'clientToken',
    message: 'clientToken must be 1-64 characters of letters, digits, and . _ : -',
  },
  {
    name: 'another cluster',
    body: json((b) => {
      b.cluster = 'prod-cluster';
    }),
    field: 'cluster',
    message: "this deployment onboards nodes into 'gpu-hybrid-cluster' only",
  },
  {
    name: 'an IP outside the remote node networks',
    body: json((b) => {
      (b.servers[1] as Server).ip = '172.16.0.5';
    }),
    field: 'servers[1].ip',
    message: 'Node IP 172.16.0.5 is outside the remote node networks of gpu-hybrid-cluster',
  },
  {
    name: 'a pod CIDR outside the remote pod networks',
    body: json((b) => {
      (b.servers[2] as Server).podCidr = '10.250.3.0/24';
    }),
    field: 'servers[2].podCidr',
    message: 'Pod CIDR 10.250.3.0/24 is not inside a remote pod network of gpu-hybrid-cluster',
  },
  {
    name: "a fleet that would pass SSM's standard tier",
    body: JSON.stringify(valid()),
    // 998 registered: three more make 1,001, past the standard tier's 1,000.
    arrange: () => ssmMock.on(DescribeInstanceInformationCommand).resolves(registeredInstances(998)),
    field: 'servers',
    message: '1,000',
  },
  {
    name: 'a server a live onboarding holds',
    body: JSON.stringify(valid()),
    arrange: () =>
      ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
        Parameters: input.Names.filter((n) => n.endsWith('/gpu-node-02')).map((Name) => ({
          Name,
          Type: 'String',
          Value: JSON.stringify({ requestId: 'gpu-node-02-0123456789ab', expiresAt: '2026-11-23T00:00:00.000Z' }),
        })),
        InvalidParameters: input.Names.filter((n) => !n.endsWith('/gpu-node-02')),
      })),
    field: 'servers[1].name',
    message:
      'gpu-node-02 is held by the onboarding gpu-node-02-0123456789ab (until 2026-11-23T00:00:00.000Z); wait for it to end (GET /nodes/gpu-node-02-0123456789ab)',
  },
];

describe('POST /fleets refuses a bad body with every problem, starting nothing', () => {
  beforeEach(() => {
    for (const mock of [eksMock, ec2Mock, ssmMock, s3Mock, sfnMock]) mock.reset();
    answerAsTheReferenceCluster();
  });

  it('has at least 20 bad bodies to refuse', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('$name: 400 at $field', async ({ body, field, message, arrange }) => {
    arrange?.();
    const answer = await run(post(body), testRuntime());
    expect(answer.statusCode).toBe(400);
    const parsed = JSON.parse(answer.body) as { message: string; problems: Array<{ field: string; message: string }> };
    expect(parsed.message).toMatch(/nothing was started/);
    expect(parsed.problems).toEqual(expect.arrayContaining([{ field, message: expect.stringContaining(message) }]));
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('lists the problems of several servers at once, each with its index', async () => {
    const body = json((b) => {
      (b.servers[0] as Server).ip = 'nope';
      (b.servers[2] as Server).os = 'windows-2022';
      (b.servers[1] as Server).name = 'gpu-node-01';
    });
    const parsed = JSON.parse((await run(post(body), testRuntime())).body) as { problems: Array<{ field: string }> };
    expect(parsed.problems.map((p) => p.field).sort()).toEqual(['servers[0].ip', 'servers[1].name', 'servers[2].os']);
  });

  it('reads the cluster once for the whole fleet, and the locks ten at a time', async () => {
    const body = json((b) => {
      b.servers = Array.from({ length: 25 }, (_, i) => ({
        name: `gpu-node-${String(i + 1).padStart(2, '0')}`,
        ip: `192.168.10.${21 + i}`,
        os: 'ubuntu-22.04',
        podCidr: `10.244.${i + 1}.0/24`,
      }));
    });
    const answer = await run(post(body), testRuntime());
    expect(answer.statusCode).toBe(202);
    expect(eksMock).toHaveReceivedCommandTimes(DescribeClusterCommand, 1);
    const batches = ssmMock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names?.length);
    expect(batches).toEqual([10, 10, 5]);
    expect(ssmMock.commandCalls(GetParametersCommand)[0]?.args[0].input.Names?.[0]).toBe(
      `${PARAMETER_PREFIX}/locks/${CLUSTER}/gpu-node-01`,
    );
  });
});

describe('POST /fleets with a good body', () => {
  beforeEach(() => {
    for (const mock of [eksMock, ec2Mock, ssmMock, s3Mock, sfnMock]) mock.reset();
    answerAsTheReferenceCluster();
  });

  it('writes the manifest, then starts one execution holding ids only', async () => {
    const answer = await run(post(JSON.stringify(valid())), testRuntime());
    expect(answer.statusCode).toBe(202);
    const accepted = JSON.parse(answer.body) as {
      fleetId: string;
      members: Array<{ name: string; requestId: string }>;
    };
    expect(accepted.fleetId).toMatch(/^fleet-poc-fleet-1-[0-9a-f]{12}$/);
    expect(accepted.members.map((m) => m.name)).toEqual(['gpu-node-01', 'gpu-node-02', 'gpu-node-03']);
    expect(accepted.members[0]?.requestId).toBe(memberRequestId(CLUSTER, accepted.fleetId, 'gpu-node-01'));

    const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Key).toBe(`fleets/${accepted.fleetId}/manifest.json`);
    const manifest = JSON.parse(String(put?.Body)) as FleetManifest;
    const second = manifest.members[1];
    expect(second?.input.fleet).toEqual({ fleetId: accepted.fleetId, index: 1 });
    expect(second?.input.requestId).toBe(accepted.members[1]?.requestId);
    expect(second?.input.request).toMatchObject({
      node: { name: 'gpu-node-02', ip: '192.168.10.22', podCidr: '10.244.2.0/24' },
      gpu: { vendor: 'nvidia', model: 'h100', count: 8 },
      labels: { team: 'ml-platform' },
    });

    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const started = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(started?.name).toBe(accepted.fleetId);
    const input = JSON.parse(started?.input ?? '{}') as FleetInput;
    expect(Object.keys(input).sort()).toEqual(
      [
        'cluster',
        'fleetId',
        'manifestKey',
        'maxConcurrency',
        'members',
        'requestDigest',
        'requester',
        'resultKey',
      ].sort(),
    );
    expect(input.members[2]).toEqual({ index: 2, name: 'gpu-node-03', requestId: accepted.members[2]?.requestId });
  });

  it('merges a server’s labels over the defaults, and gpu null means no GPU', async () => {
    const body = json((b) => {
      (b.servers[0] as Server).labels = { team: 'research', rack: 'r1' };
      (b.servers[1] as Server).gpu = null;
    });
    expect((await run(post(body), testRuntime())).statusCode).toBe(202);
    const manifest = JSON.parse(String(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body)) as FleetManifest;
    expect(manifest.members[0]?.input.request).toMatchObject({
      labels: { team: 'research', rack: 'r1', 'topology.kubernetes.io/zone': 'onprem-seoul-1' },
    });
    expect((manifest.members[1]?.input.request as { gpu?: unknown }).gpu).toBeUndefined();
  });

  it('answers the same fleet to a retry (same token and body), writing nothing again', async () => {
    const first = JSON.parse((await run(post(JSON.stringify(valid())), testRuntime())).body) as { fleetId: string };
    const startedInput = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input;
    sfnMock.reset();
    s3Mock.reset();
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: startedInput });
    const again = await run(post(JSON.stringify(valid())), testRuntime());
    expect(again.statusCode).toBe(202);
    expect(JSON.parse(again.body)).toMatchObject({ fleetId: first.fleetId, existing: true });
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('refuses the token with another body (409), leaving the running fleet’s manifest alone', async () => {
    await run(post(JSON.stringify(valid())), testRuntime());
    const startedInput = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input;
    sfnMock.reset();
    s3Mock.reset();
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: startedInput });
    const other = json((b) => {
      b.servers.pop();
    });
    const answer = await run(post(other), testRuntime());
    expect(answer.statusCode).toBe(409);
    expect(JSON.parse(answer.body).message).toMatch(/already used for a different fleet/);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('loses a race to another body under the same token as a 409', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'exists' }));
    sfnMock
      .on(DescribeExecutionCommand)
      .rejectsOnce(new ExecutionDoesNotExist({ $metadata: {}, message: 'none' }))
      .resolves({ status: 'RUNNING', input: JSON.stringify({ requestDigest: 'another-body' }) });
    const answer = await run(post(JSON.stringify(valid())), testRuntime());
    expect(answer.statusCode).toBe(409);
  });

  it("does not count a retried fleet's own member locks as held", async () => {
    const first = JSON.parse((await run(post(JSON.stringify(valid())), testRuntime())).body) as { fleetId: string };
    ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
      Parameters: input.Names.map((Name) => ({
        Name,
        Type: 'String',
        Value: JSON.stringify({
          requestId: memberRequestId(CLUSTER, first.fleetId, Name.split('/').pop() as string),
          expiresAt: '2026-11-23T00:00:00.000Z',
        }),
      })),
    }));
    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'none' }));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    expect((await run(post(JSON.stringify(valid())), testRuntime())).statusCode).toBe(202);
  });
});
