/**
 * `DELETE /nodes/{node}` and `GET /offboardings/{requestId}` through the real handler modules:
 * bad requests answer 400 naming each problem and start nothing; the node is looked up on the
 * sandbox estate (its SSM instances and Kubernetes Nodes); Step Functions is mocked.
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { run as getOffboarding } from '#functions/api/get-offboarding';
import { run as submitOffboarding } from '#functions/api/submit-offboarding';
import { acquireNodeLock } from '#lib/node-lock';
import type { OffboardingInput } from '#lib/offboarding/state';
import { sandboxRuntime, SandboxEstate, withServices } from '#lib/sandbox/index';
import { settingsFromEnv } from '#lib/settings';
import { apiEvent } from '#test/helpers/api-event';
import { answerOf } from '#test/helpers/api-answer';

const REGION = 'ap-northeast-2';
const CLUSTER = 'gpu-hybrid-cluster';
const CLUSTER_ARN = `arn:aws:eks:${REGION}:111122223333:cluster/${CLUSTER}`;
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:111122223333:stateMachine:offboard-node-test`;
const EXECUTIONS = STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:');
/** The seed's fleet (sandbox/estate.yaml): gpu-node-12 is Ready, gpu-node-13 NotReady. */
const GPU_NODE_02 = 'mi-0a2b4c6d8e0f12342';
const GPU_NODE_03 = 'mi-0a2b4c6d8e0f12343';
const PREFIX = '/eks-hybrid-ops/test';

const sfnMock = mockClient(SFNClient);
let estate: SandboxEstate;

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake((input: { name?: string }) => ({
    executionArn: `${EXECUTIONS}:${input.name}`,
    startDate: new Date('2026-11-30T00:00:00Z'),
  }));
  estate = withServices(SandboxEstate.inMemory());
});

function runtime() {
  const settings = settingsFromEnv({
    STAGE: 'test',
    AWS_REGION: REGION,
    CLUSTER_NAME: CLUSTER,
    HYBRID_NODES_ROLE_NAME: 'AmazonEKSHybridNodesRole',
    PARAMETER_PREFIX: PREFIX,
    LABEL_PREFIX: 'hybridops.io',
    OFFBOARD_STATE_MACHINE_ARN: STATE_MACHINE_ARN,
  });
  return sandboxRuntime(estate, settings);
}

async function del(
  node: string | undefined,
  options: { body?: unknown; query?: Record<string, string> } = {},
): Promise<ReturnType<typeof answerOf>> {
  const event: APIGatewayProxyEvent = apiEvent({
    httpMethod: 'DELETE',
    // One variable per path level in API Gateway: the node arrives as requestId (the handler says why).
    resource: '/nodes/{requestId}',
    pathParameters: node === undefined ? null : { requestId: node },
    body:
      options.body === undefined
        ? null
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
    queryStringParameters: options.query ?? null,
  });
  return answerOf(await submitOffboarding(event, runtime()));
}

const startedInput = (): OffboardingInput => {
  const calls = sfnMock.commandCalls(StartExecutionCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0]?.args[0].input.input ?? '{}') as OffboardingInput;
};

interface BadRequest {
  name: string;
  node?: string;
  body?: unknown;
  query?: Record<string, string>;
  field: string;
  message: string;
}

const bad: BadRequest[] = [
  { name: 'no node in the path', node: undefined, field: 'node', message: 'the node is required' },
  {
    name: 'a node name with upper case',
    node: 'GPU-Node-01',
    field: 'node',
    message: "'GPU-Node-01' is not a node name",
  },
  { name: 'a node name with an underscore', node: 'gpu_node_01', field: 'node', message: 'is not a node name' },
  { name: 'a node name of 254 characters', node: 'n'.repeat(254), field: 'node', message: 'at most 253' },
  {
    name: 'a body that is not JSON',
    node: 'gpu-node-12',
    body: '{force: true}',
    field: '(body)',
    message: 'the body is not JSON',
  },
  {
    name: 'a JSON array',
    node: 'gpu-node-12',
    body: '[true]',
    field: '(body)',
    message:
      'the body must be empty or a JSON object with the options cluster, force, drainTimeoutSeconds, skipUninstall, clientToken',
  },
  {
    name: 'a body over 4 KiB',
    node: 'gpu-node-12',
    body: { clientToken: 'x'.repeat(5000) },
    field: '(body)',
    message: 'at most 4096',
  },
  {
    name: 'an unknown option',
    node: 'gpu-node-12',
    body: { gracePeriod: 30 },
    field: '(body)',
    message:
      "unknown option(s) 'gracePeriod'; allowed: cluster, force, drainTimeoutSeconds, skipUninstall, clientToken",
  },
  {
    name: 'force as a string',
    node: 'gpu-node-12',
    body: { force: 'yes' },
    field: 'force',
    message: 'force must be true or false',
  },
  {
    name: 'skipUninstall as a number',
    node: 'gpu-node-12',
    body: { skipUninstall: 1 },
    field: 'skipUninstall',
    message: 'skipUninstall must be true or false',
  },
  {
    name: 'a drain timeout under a minute',
    node: 'gpu-node-12',
    body: { drainTimeoutSeconds: 10 },
    field: 'drainTimeoutSeconds',
    message: 'drainTimeoutSeconds must be at least 60',
  },
  {
    name: 'a drain timeout over an hour',
    node: 'gpu-node-12',
    body: { drainTimeoutSeconds: 7200 },
    field: 'drainTimeoutSeconds',
    message: 'drainTimeoutSeconds must be at most 3600 (an hour)',
  },
  {
    name: 'a drain timeout that is not whole',
    node: 'gpu-node-12',
    body: { drainTimeoutSeconds: 90.5 },
    field: 'drainTimeoutSeconds',
    message: 'a whole number of seconds, 60-3600',
  },
  {
    name: 'a drain timeout as text',
    node: 'gpu-node-12',
    body: { drainTimeoutSeconds: '900' },
    field: 'drainTimeoutSeconds',
    message: 'a whole number of seconds, 60-3600',
  },
  {
    name: 'another cluster',
    node: 'gpu-node-12',
    body: { cluster: 'prod-cluster' },
    field: 'cluster',
    message: "this deployment offboards nodes from 'gpu-hybrid-cluster' only",
  },
  {
    name: 'a client token with a space',
    node: 'gpu-node-12',
    body: { clientToken: 'retire gpu 2' },
    field: 'clientToken',
    message: 'clientToken must be 1-64 characters',
  },
  {
    name: 'force=maybe in the query string',
    node: 'gpu-node-12',
    query: { force: 'maybe' },
    field: 'query.force',
    message: 'force must be true or false',
  },
  {
    name: 'a drain timeout in the query string that is not a number',
    node: 'gpu-node-12',
    query: { drainTimeoutSeconds: 'ten' },
    field: 'query.drainTimeoutSeconds',
    message: 'a whole number of seconds',
  },
  {
    name: 'an unknown query parameter',
    node: 'gpu-node-12',
    query: { grace: '30' },
    field: '(query)',
    message: "unknown option(s) 'grace'",
  },
  {
    name: 'two values for force',
    node: 'gpu-node-12',
    body: { force: true },
    query: { force: 'false' },
    field: 'force',
    message: 'force is true in the body and false in the query string; give one value',
  },
];

describe('DELETE /nodes/{node} refuses a bad request with 400, naming the problem, and starts nothing', () => {
  it.each(bad.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const answer = await del(c.node, { body: c.body, query: c.query });
    expect(answer.statusCode).toBe(400);
    const problems = answer.body.problems as Array<{ field: string; message: string }>;
    expect(problems).toContainEqual({ field: c.field, message: expect.stringContaining(c.message) });
    expect(answer.body.message).toMatch(/problem\(s\); nothing was started\.$/);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('lists every problem at once', async () => {
    const answer = await del('GPU_02', {
      body: { force: 'yes', drainTimeoutSeconds: 5 },
      query: { skipUninstall: 'no' },
    });
    expect((answer.body.problems as Array<{ field: string }>).map((p) => p.field).sort()).toEqual([
      'drainTimeoutSeconds',
      'force',
      'node',
      'query.skipUninstall',
    ]);
  });
});

describe('DELETE /nodes/{node} looks the node up in the cluster', () => {
  it('offboards a node by its onboarded name: 202, Location, the Node name, the lock and the commands in the input', async () => {
    const answer = await del('gpu-node-12', { body: { drainTimeoutSeconds: 600 }, query: { force: 'true' } });
    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({
      outcome: 'started',
      existing: false,
      node: 'gpu-node-12',
      nodeName: GPU_NODE_02,
    });
    expect(answer.headers?.location).toBe(
      `https://abc123.execute-api.ap-northeast-2.amazonaws.com/test/offboardings/${answer.body.requestId}`,
    );
    const input = startedInput();
    expect(input.requestId).toMatch(/^gpu-node-12-[0-9a-f]{12}$/);
    expect(input.request).toEqual({
      cluster: CLUSTER,
      node: 'gpu-node-12',
      force: true,
      drainTimeoutSeconds: 600,
      skipUninstall: false,
    });
    expect(input.target).toEqual({ nodeName: GPU_NODE_02, onboardedName: 'gpu-node-12' });
    // The lock onboarding takes for that name: an offboarding and an onboarding of it exclude each other.
    expect(input.resources.lockParameter).toBe(`${PREFIX}/locks/${CLUSTER}/gpu-node-12`);
    expect(input.resources.manualCleanup).toContain(`kubectl uncordon ${GPU_NODE_02}`);
    expect(input.resources.manualCleanup).toContain(
      `aws ssm delete-parameter --region ${REGION} --name ${PREFIX}/locks/${CLUSTER}/gpu-node-12`,
    );
  });

  it('offboards a node by its Node name, with the defaults', async () => {
    const answer = await del(GPU_NODE_03);
    expect(answer.statusCode).toBe(202);
    const input = startedInput();
    expect(input.request).toEqual({
      cluster: CLUSTER,
      node: GPU_NODE_03,
      force: false,
      drainTimeoutSeconds: 900,
      skipUninstall: false,
    });
    expect(input.target).toEqual({ nodeName: GPU_NODE_03, onboardedName: 'gpu-node-13' });
    expect(input.resources.lockParameter).toBe(`${PREFIX}/locks/${CLUSTER}/gpu-node-13`);
  });

  it('answers a node already gone with 200 saying there is nothing to offboard, and starts nothing', async () => {
    const answer = await del('gpu-node-42');
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toMatchObject({ outcome: 'already-gone', node: 'gpu-node-42', cluster: CLUSTER });
    expect(answer.body.message).toContain(
      'has no Node and no registered managed instance named gpu-node-42: there is nothing to offboard',
    );
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses a Node that is not a hybrid node (400, saying why)', async () => {
    const name = 'ip-10-0-1-5.ap-northeast-2.compute.internal';
    const node = structuredClone(estate.state.nodes[GPU_NODE_02]);
    if (!node) throw new Error('the seed has gpu-node-12');
    estate.state.nodes[name] = { ...node, name, labels: { 'eks.amazonaws.com/compute-type': 'ec2' } };
    const answer = await del(name);
    expect(answer.statusCode).toBe(400);
    expect(answer.body.problems).toEqual([
      {
        field: 'node',
        message: expect.stringContaining(
          `Node ${name} is not an EKS hybrid node (label eks.amazonaws.com/compute-type is 'ec2', not 'hybrid')`,
        ),
      },
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it("refuses a node whose managed instance is another cluster's (400, saying why)", async () => {
    const instance = estate.state.instances[GPU_NODE_02];
    if (!instance) throw new Error('the seed has gpu-node-12');
    const other = CLUSTER_ARN.replace(CLUSTER, 'other-cluster');
    instance.tags = instance.tags.map((t) => (t.Key === 'EKSClusterARN' ? { ...t, Value: other } : t));
    const answer = await del(GPU_NODE_02);
    expect(answer.statusCode).toBe(400);
    expect(JSON.stringify(answer.body.problems)).toContain(
      `belongs to another cluster (its EKSClusterARN tag is ${other})`,
    );
  });

  it('refuses a node whose managed instance is not tagged for the cluster', async () => {
    const instance = estate.state.instances[GPU_NODE_02];
    if (!instance) throw new Error('the seed has gpu-node-12');
    instance.tags = [];
    const answer = await del(GPU_NODE_02);
    expect(answer.statusCode).toBe(400);
    expect(JSON.stringify(answer.body.problems)).toContain(`is not tagged EKSClusterARN=${CLUSTER_ARN}`);
  });

  it('refuses a name onboarded twice, listing the Node names to use', async () => {
    const twin = structuredClone(estate.state.instances[GPU_NODE_02]);
    if (!twin) throw new Error('the seed has gpu-node-12');
    estate.state.instances['mi-0a2b4c6d8e0f19999'] = { ...twin, instanceId: 'mi-0a2b4c6d8e0f19999' };
    const answer = await del('gpu-node-12');
    expect(answer.statusCode).toBe(400);
    expect(JSON.stringify(answer.body.problems)).toContain(
      `names more than one node: ${GPU_NODE_02} (a Node), mi-0a2b4c6d8e0f19999 (no Node)`,
    );
  });

  it('answers 409 naming the run that holds the node, and starts nothing', async () => {
    const rt = runtime();
    await acquireNodeLock(
      rt.clients.ssm,
      `${PREFIX}/locks/${CLUSTER}/gpu-node-12`,
      { requestId: 'gpu-node-12-poc-2-0123456789ab', expiresAt: '2099-01-01T00:00:00.000Z' },
      new Date(),
    );
    const answer = await del('gpu-node-12');
    expect(answer.statusCode).toBe(409);
    expect(answer.body.message).toContain('The onboarding gpu-node-12-poc-2-0123456789ab holds gpu-node-12');
    expect(answer.body.fix).toContain('GET /nodes/gpu-node-12-poc-2-0123456789ab');
    expect(answer.headers?.['retry-after']).toBe('60');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('takes a stale lock for what it is: the workflow takes it over', async () => {
    const rt = runtime();
    await acquireNodeLock(
      rt.clients.ssm,
      `${PREFIX}/locks/${CLUSTER}/gpu-node-12`,
      { requestId: 'gpu-node-12-old', expiresAt: '2020-01-01T00:00:00.000Z', workflow: 'upgrade' },
      new Date('2019-12-31T00:00:00.000Z'),
    );
    expect((await del('gpu-node-12')).statusCode).toBe(202);
  });

  it('with a client token: the same request again is the same offboarding, other options are 409', async () => {
    const first = await del('gpu-node-12', { body: { clientToken: 'retire-2' } });
    const input = startedInput();
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'exists' }));
    sfnMock.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(input), status: 'RUNNING' });
    const again = await del('gpu-node-12', { body: { clientToken: 'retire-2' } });
    expect(again.statusCode).toBe(202);
    expect(again.body).toMatchObject({ requestId: first.body.requestId, existing: true });
    const other = await del('gpu-node-12', { body: { clientToken: 'retire-2', force: true } });
    expect(other.statusCode).toBe(409);
    expect(other.body.message).toContain(
      "clientToken 'retire-2' was already used to offboard gpu-node-12 with other options",
    );
  });
});

describe('GET /offboardings/{requestId}', () => {
  const get = async (requestId: string) =>
    answerOf(
      await getOffboarding(
        apiEvent({ httpMethod: 'GET', resource: '/offboardings/{requestId}', pathParameters: { requestId } }),
        runtime(),
      ),
    );
  const input = { target: { nodeName: GPU_NODE_02, onboardedName: 'gpu-node-12' } };

  it('refuses what is not a request id (400) and answers 404 for one that does not exist', async () => {
    expect((await get('Not_An_Id')).statusCode).toBe(400);
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'none' }));
    const answer = await get('gpu-node-12-0123456789ab');
    expect(answer.statusCode).toBe(404);
    expect(answer.body.message).toBe("No offboarding request 'gpu-node-12-0123456789ab' exists.");
  });

  it('gives the phase of a running one, and the drain progress while it drains', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ status: 'RUNNING', input: JSON.stringify(input), startDate: new Date() });
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 9, timestamp: new Date(), type: 'WaitStateEntered', stateEnteredEventDetails: { name: 'WaitForDrain' } },
        {
          id: 8,
          timestamp: new Date(),
          type: 'TaskStateExited',
          stateExitedEventDetails: {
            name: 'DrainNode',
            output: JSON.stringify({
              prepare: { drainDeadline: '2026-11-30T00:15:00.000Z' },
              drain: {
                done: false,
                evicting: [{ namespace: 'ml', name: 'a' }],
                blocked: [{ namespace: 'db', name: 'pg-0' }],
              },
            }),
          },
        },
      ],
    });
    const answer = await get('gpu-node-12-0123456789ab');
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'RUNNING',
      phase: 'draining',
      node: 'gpu-node-12',
      nodeName: GPU_NODE_02,
      drain: { podsEvicting: 1, podsBlocked: ['db/pg-0'], deadline: '2026-11-30T00:15:00.000Z' },
    });
  });

  it('gives the result of one that succeeded, without the alert and the retry bookkeeping', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'SUCCEEDED',
      input: JSON.stringify(input),
      output: JSON.stringify({
        outcome: 'offboarded',
        costPerDayUsd: 590.82,
        notification: { subject: 's' },
        attempt: 1,
        retry: false,
        nextWaitSeconds: 0,
      }),
    });
    const answer = await get('gpu-node-12-0123456789ab');
    expect(answer.body).toMatchObject({ phase: 'done', result: { outcome: 'offboarded', costPerDayUsd: 590.82 } });
    expect(answer.body.result).not.toHaveProperty('notification');
    expect(answer.body.result).not.toHaveProperty('attempt');
  });

  it('gives the error of one that failed, and the outcome of one whose alert could not go out', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ status: 'FAILED', input: JSON.stringify(input), error: 'DrainBlockedError', cause: 'db/pg-0' });
    expect((await get('gpu-node-12-0123456789ab')).body).toMatchObject({ phase: 'failed', error: 'DrainBlockedError' });
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      input: JSON.stringify(input),
      error: 'AlertDeliveryError',
      cause: JSON.stringify({ message: 'not told', result: { outcome: 'offboarded', notification: {} } }),
    });
    expect((await get('gpu-node-12-0123456789ab')).body).toMatchObject({
      phase: 'done',
      result: { outcome: 'offboarded' },
      alertDelivered: false,
    });
  });
});
