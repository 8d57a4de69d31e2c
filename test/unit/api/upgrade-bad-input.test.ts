/**
 * `POST /upgrades` with bad requests, through the real handler module: every one must answer 400,
 * name the field, say what is wrong and what is allowed, and start nothing.
 */
import { type ClusterStatus, DescribeClusterCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { run } from '#functions/api/submit-upgrade';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { ManualClock } from '#lib/clock';
import type { Runtime } from '#lib/runtime';
import { apiEvent } from '#test/helpers/api-event';

const REGION = 'ap-northeast-2';
const CLUSTER = 'gpu-hybrid-cluster';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:111122223333:stateMachine:upgrade-nodes-test`;

const eksMock = mockClient(EKSClient);
const sfnMock = mockClient(SFNClient);

function answerAsACluster(version = '1.33', status: ClusterStatus = 'ACTIVE') {
  eksMock.on(DescribeClusterCommand, { name: CLUSTER }).resolves({
    cluster: { name: CLUSTER, arn: `arn:aws:eks:${REGION}:111122223333:cluster/${CLUSTER}`, status, version },
  });
  sfnMock.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
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
      parameterPrefix: '/eks-hybrid-ops/test',
      labelPrefix: 'hybridops.io',
      upgradeStateMachineArn: STATE_MACHINE_ARN,
    },
    clients: createAllAwsClients({ region: REGION, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 's' } }),
    clock: new ManualClock('2026-11-22T00:00:00Z'),
    nodes: () => {
      throw new Error('POST /upgrades must not read Kubernetes Nodes');
    },
    prober: { tcpConnectSamples: () => Promise.reject(new Error('POST /upgrades must not probe anything')) },
  };
}

const post = (body: string | null): APIGatewayProxyEvent =>
  apiEvent({ body, path: '/upgrades', resource: '/upgrades' });

type Body = Record<string, unknown>;
/** A valid body: two named nodes to the cluster's version, one at a time. */
const valid = (): Body => ({
  clientToken: 'roll-1-33',
  cluster: CLUSTER,
  kubernetesVersion: '1.33',
  nodes: ['gpu-node-12', 'mi-0a2b4c6d8e0f12344'],
  maxUnavailable: 1,
  force: false,
  drainTimeoutSeconds: 600,
});
const json = (change: (body: Body) => void): string => {
  const body = valid();
  change(body);
  return JSON.stringify(body);
};

interface BadInput {
  name: string;
  body: string | null;
  field: string;
  message: string;
}

const cases: BadInput[] = [
  { name: 'empty body', body: '', field: '(body)', message: 'the body is empty; send a JSON object with the fields' },
  { name: 'not JSON', body: '{cluster: gpu}', field: '(body)', message: 'the body is not JSON' },
  { name: 'a JSON array', body: '[]', field: '(body)', message: 'the body must be a JSON object with the fields' },
  {
    name: 'a body over 16 KiB',
    body: json((b) => {
      b.selector = `gpu=${'x'.repeat(17 * 1024)}`;
    }),
    field: '(body)',
    message: 'at most 16384',
  },
  {
    name: 'an unknown field',
    body: json((b) => {
      b.version = '1.33';
    }),
    field: '(body)',
    message: "unknown field(s) 'version'; allowed: clientToken, cluster, kubernetesVersion, nodes, selector",
  },
  {
    name: 'missing cluster',
    body: json((b) => {
      delete b.cluster;
    }),
    field: 'cluster',
    message: 'cluster is required: the EKS cluster name',
  },
  {
    name: 'another cluster',
    body: json((b) => {
      b.cluster = 'prod-cluster';
    }),
    field: 'cluster',
    message: "this deployment upgrades nodes of 'gpu-hybrid-cluster' only",
  },
  {
    name: 'a target newer than the control plane',
    body: json((b) => {
      b.kubernetesVersion = '1.34';
    }),
    field: 'kubernetesVersion',
    message:
      '1.34 is newer than the 1.33 control plane (kubelet 1.34 cannot join a 1.33 control plane; allowed: 1.30 to 1.33',
  },
  {
    name: 'the fix for a target newer than the control plane',
    body: json((b) => {
      b.kubernetesVersion = '1.34';
    }),
    field: 'kubernetesVersion',
    message:
      'upgrade the control plane first (aws eks update-cluster-version --name gpu-hybrid-cluster --kubernetes-version 1.34)',
  },
  {
    name: 'a target four minors behind the control plane',
    body: json((b) => {
      b.kubernetesVersion = '1.29';
    }),
    field: 'kubernetesVersion',
    message: '1.29 is too far behind the 1.33 control plane',
  },
  {
    name: 'a patch version',
    body: json((b) => {
      b.kubernetesVersion = '1.33.2';
    }),
    field: 'kubernetesVersion',
    message: 'kubernetesVersion must be major.minor, such as 1.33 (nodeadm installs its latest patch)',
  },
  {
    name: 'a version as a number',
    body: json((b) => {
      b.kubernetesVersion = 1.33;
    }),
    field: 'kubernetesVersion',
    message: 'kubernetesVersion must be a string such as "1.33"',
  },
  {
    name: 'nodes as a string',
    body: json((b) => {
      b.nodes = 'gpu-node-12';
    }),
    field: 'nodes',
    message: 'nodes must be an array of Node names',
  },
  {
    name: 'nodes empty',
    body: json((b) => {
      b.nodes = [];
    }),
    field: 'nodes',
    message: 'nodes must name at least one node (leave it out for every hybrid node below the target)',
  },
  {
    name: 'a node name that is neither a Node name nor a DNS label',
    body: json((b) => {
      b.nodes = ['GPU_Node_02'];
    }),
    field: 'nodes.0',
    message: 'each node must be a Node name (mi- and 17 hex digits) or the name it was onboarded under',
  },
  {
    name: 'a node named twice',
    body: json((b) => {
      b.nodes = ['gpu-node-12', 'gpu-node-12'];
    }),
    field: 'nodes',
    message: 'nodes must not name a node twice',
  },
  {
    name: 'more nodes than one execution can hold',
    body: json((b) => {
      b.nodes = Array.from({ length: 23 }, (_, i) => `gpu-node-${String(i).padStart(2, '0')}`);
    }),
    field: 'nodes',
    message:
      "nodes may name at most 22 nodes a request (so its execution stays within Step Functions' 25,000-event history); split them into several requests",
  },
  {
    name: 'nodes and a selector',
    body: json((b) => {
      b.selector = 'gpu=h100';
    }),
    field: 'nodes',
    message: 'give nodes or selector, not both',
  },
  {
    name: 'a malformed selector',
    body: json((b) => {
      delete b.nodes;
      b.selector = 'gpu=h100,,zone';
    }),
    field: 'selector',
    message: 'has an empty requirement',
  },
  {
    name: 'a selector with a bad label key',
    body: json((b) => {
      delete b.nodes;
      b.selector = 'gpu model=h100';
    }),
    field: 'selector',
    message:
      "'gpu model=h100' is not a requirement (key=value, key!=value, key in (a,b), key notin (a,b), key or !key)",
  },
  {
    name: 'maxUnavailable 0',
    body: json((b) => {
      b.maxUnavailable = 0;
    }),
    field: 'maxUnavailable',
    message: 'maxUnavailable must be at least 1 (AWS recommends upgrading one node at a time)',
  },
  {
    name: 'maxUnavailable 11',
    body: json((b) => {
      b.maxUnavailable = 11;
    }),
    field: 'maxUnavailable',
    message: 'maxUnavailable must be at most 10',
  },
  {
    name: 'maxUnavailable 1.5',
    body: json((b) => {
      b.maxUnavailable = 1.5;
    }),
    field: 'maxUnavailable',
    message: 'maxUnavailable must be a whole number, 1-10',
  },
  {
    name: 'force as a string',
    body: json((b) => {
      b.force = 'yes';
    }),
    field: 'force',
    message: 'force must be true or false',
  },
  {
    name: 'drainTimeoutSeconds 10',
    body: json((b) => {
      b.drainTimeoutSeconds = 10;
    }),
    field: 'drainTimeoutSeconds',
    message: 'drainTimeoutSeconds must be at least 60',
  },
  {
    name: 'drainTimeoutSeconds over an hour',
    body: json((b) => {
      b.drainTimeoutSeconds = 7200;
    }),
    field: 'drainTimeoutSeconds',
    message: 'drainTimeoutSeconds must be at most 3600 (an hour)',
  },
  {
    name: 'clientToken with spaces',
    body: json((b) => {
      b.clientToken = 'roll 1';
    }),
    field: 'clientToken',
    message: 'clientToken must be 1-64 characters of letters, digits, and . _ : -',
  },
];

interface Answer {
  message: string;
  problems: Array<{ field: string; message: string }>;
}

describe('POST /upgrades with bad input', () => {
  beforeEach(() => {
    eksMock.reset();
    sfnMock.reset();
    answerAsACluster();
  });

  it('has at least 15 bad-input cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('starts an upgrade for the valid control request (so the cases below can fail)', async () => {
    const result = await run(post(JSON.stringify(valid())), testRuntime());

    expect(result.statusCode).toBe(202);
    const body = JSON.parse(result.body) as { upgradeId: string; statusUrl: string };
    expect(body.upgradeId).toMatch(/^roll-1-33-[0-9a-f]{12}$/);
    expect(result.headers?.location).toBe(
      `https://abc123.execute-api.ap-northeast-2.amazonaws.com/test/upgrades/${body.upgradeId}`,
    );
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: body.upgradeId,
    });
  });

  it.each(cases)('answers 400 for $name: $field', async ({ body, field, message }) => {
    const result = await run(post(body), testRuntime());

    expect(result.statusCode).toBe(400);
    const answer = JSON.parse(result.body) as Answer;
    expect(answer.message).toMatch(/^The upgrade request has \d+ problem\(s\); nothing was started\.$/);
    expect(answer.problems).toContainEqual({ field, message: expect.stringContaining(message) });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('lists the shape problems and the target against the cluster together', async () => {
    const body = json((b) => {
      b.kubernetesVersion = '1.34';
      b.maxUnavailable = 0;
      b.force = 'yes';
    });
    const result = await run(post(body), testRuntime());
    const answer = JSON.parse(result.body) as Answer;
    expect(answer.problems.map((p) => p.field).sort()).toEqual(['force', 'kubernetesVersion', 'maxUnavailable']);
  });

  it('refuses a cluster that is being updated, or is not there', async () => {
    eksMock.reset();
    answerAsACluster('1.33', 'UPDATING');
    let answer = JSON.parse((await run(post(JSON.stringify(valid())), testRuntime())).body) as Answer;
    expect(answer.problems).toEqual([
      {
        field: 'cluster',
        message: "cluster 'gpu-hybrid-cluster' is UPDATING, not ACTIVE: wait until its update ends, then submit again",
      },
    ]);
    eksMock.reset();
    eksMock.on(DescribeClusterCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: 'no' }));
    answer = JSON.parse((await run(post(JSON.stringify(valid())), testRuntime())).body) as Answer;
    expect(answer.problems).toEqual([
      { field: 'cluster', message: "EKS cluster 'gpu-hybrid-cluster' does not exist in this account and Region" },
    ]);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
