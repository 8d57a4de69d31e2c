import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '#cli/main';
import { type ScriptedAnswer, type SeenRequest, startSigV4Server } from '#test/helpers/sigv4-test-server';

const KEY = { accessKeyId: 'AKIDTEAMONE', secretAccessKey: 'team-one-secret', sessionToken: 'session-one' };
const REQUEST_ID = 'gpu-node-01-poc-1-35a76f7cc3e5';
const ACTIVATION_CODE = 'ActivationCodeDoNotPrint1234';

function capture(isTTY = false) {
  const out = { text: '', isTTY, write: (t: string) => (out.text += t) };
  const err = { text: '', write: (t: string) => (err.text += t) };
  return { stdout: out, stderr: err };
}

/** A scripted API: each path's answers in turn (the last one repeats). */
function scripted(routes: Record<string, ScriptedAnswer[]>) {
  const calls = new Map<string, number>();
  return (r: SeenRequest): ScriptedAnswer => {
    const key = `${r.method} ${r.path}`;
    const answers = routes[key];
    if (!answers) return { status: 403, body: { message: 'Missing Authentication Token' } };
    const n = calls.get(key) ?? 0;
    calls.set(key, n + 1);
    return answers[Math.min(n, answers.length - 1)] as ScriptedAnswer;
  };
}

let server: Awaited<ReturnType<typeof startSigV4Server>>;
let dir: string;
let requestFile: string;

async function serve(routes: Record<string, ScriptedAnswer[]>) {
  server = await startSigV4Server([KEY], scripted(routes));
}

function run(args: string[], io = capture(), credentials = KEY) {
  let clock = 0;
  return main(
    [...args, '--api', `${server.url}/dev`, '--region', 'ap-northeast-2'],
    io,
    {},
    {
      credentials,
      whoami: async () => 'arn:aws:sts::123456789012:assumed-role/team-one/alice',
      sleep: async (ms) => {
        clock += ms;
      },
      now: () => clock,
    },
  ).then((code) => ({ code, out: io.stdout.text, err: io.stderr.text }));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hybridops-client-'));
  requestFile = join(dir, 'request.json');
  writeFileSync(requestFile, JSON.stringify({ cluster: 'gpu-hybrid-cluster', node: { name: 'gpu-node-01' } }));
});
afterEach(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const accepted: ScriptedAnswer = {
  status: 202,
  body: { requestId: REQUEST_ID, statusUrl: `https://example/dev/nodes/${REQUEST_ID}` },
};
const running: ScriptedAnswer = {
  status: 200,
  body: { requestId: REQUEST_ID, status: 'RUNNING', phase: 'waiting-for-registration', nodeConfigReady: true },
};
const succeeded: ScriptedAnswer = {
  status: 200,
  body: { requestId: REQUEST_ID, status: 'SUCCEEDED', phase: 'done', outcome: 'joined' },
};

describe('hybridops nodes (signed calls to the API)', () => {
  it('submits a signed POST /nodes and, with --wait, follows it from RUNNING to SUCCEEDED: exit 0', async () => {
    await serve({ 'POST /dev/nodes': [accepted], [`GET /dev/nodes/${REQUEST_ID}`]: [running, running, succeeded] });

    const { code, out } = await run(['nodes', 'add', requestFile, '--wait']);

    expect(server.refused).toBe(0);
    expect(server.seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /dev/nodes',
      `GET /dev/nodes/${REQUEST_ID}`,
      `GET /dev/nodes/${REQUEST_ID}`,
      `GET /dev/nodes/${REQUEST_ID}`,
    ]);
    expect(JSON.parse(server.seen[0]?.body ?? '')).toEqual(JSON.parse(readFileSync(requestFile, 'utf8')));
    expect(out).toContain(`accepted: requestId ${REQUEST_ID}\n  status: ${server.url}/dev/nodes/${REQUEST_ID}\n`);
    expect(out).toContain('  RUNNING waiting-for-registration (0s)\n');
    expect(out).toContain('  SUCCEEDED done (20s)\n');
    expect(out).toContain('  outcome: joined');
    expect(out).not.toContain('\r');
    expect(code).toBe(0);
  });

  it('shows an ended onboarding by its brief and warnings, one line each, not the whole result', async () => {
    const warning = 'gpu-node-01 joined, but 0 of 8 GPUs are allocatable: deploy the NVIDIA device plugin';
    const ended = {
      status: 200,
      body: {
        requestId: REQUEST_ID,
        status: 'SUCCEEDED',
        phase: 'done',
        outcome: 'joined-with-warnings',
        warnings: [warning],
        result: {
          outcome: 'joined',
          timings: { total: 125 },
          cleanup: Array.from({ length: 40 }, (_, i) => ({ action: `step-${i}`, outcome: 'done' })),
          brief: { status: 'joined', nodeName: 'gpu-node-01', gpuVerdict: 'no-device-plugin', warnings: [warning] },
        },
      },
    };
    await serve({ [`GET /dev/nodes/${REQUEST_ID}`]: [ended] });

    const { code, out } = await run(['nodes', 'get', REQUEST_ID]);

    expect(out).toContain(`  warnings:\n    - ${warning}\n`);
    expect(out).toContain('  brief: {"status":"joined","nodeName":"gpu-node-01","gpuVerdict":"no-device-plugin"}\n');
    expect(out).not.toContain('step-39');
    expect(out.split(warning)).toHaveLength(2);
    expect(code).toBe(0);
  });

  it('shows live progress on a terminal: phase, elapsed time and the next poll, redrawn in place', async () => {
    await serve({ [`GET /dev/nodes/${REQUEST_ID}`]: [running, succeeded] });

    const { code, out } = await run(['nodes', 'get', REQUEST_ID, '--wait'], capture(true));

    expect(out).toContain('\r\x1b[K  RUNNING waiting-for-registration, elapsed 0s, next poll in 10s');
    expect(out).toContain('elapsed 9s, next poll in 1s');
    expect(code).toBe(0);
  });

  it('with --json prints one object, the last answer; a FAILED request exits 1', async () => {
    const failed = {
      status: 200,
      body: { requestId: REQUEST_ID, status: 'FAILED', phase: 'failed', error: 'NodeNotReadyError' },
    };
    await serve({ [`GET /dev/nodes/${REQUEST_ID}`]: [running, failed] });

    const { code, out } = await run(['nodes', 'get', REQUEST_ID, '--wait', '--json']);

    expect(out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toEqual(failed.body);
    expect(code).toBe(1);
  });

  it('keeps following through a 503 with retry-after (AWS throttling): the request goes on, exit 0', async () => {
    const unavailable = {
      status: 503,
      headers: { 'retry-after': '5' },
      body: { message: 'AWS is throttling or unavailable; nothing was started. Retry shortly.' },
    };
    await serve({ [`GET /dev/nodes/${REQUEST_ID}`]: [running, unavailable, succeeded] });

    const { code, out } = await run(['nodes', 'get', REQUEST_ID, '--wait']);

    expect(out).toContain('  (HTTP 503; polling again in 5s)\n');
    expect(out).toContain('  SUCCEEDED done (15s)\n');
    expect(code).toBe(0);
  });

  it('with --wait asks for the NodeConfig again while it is not issued (409), then writes it', async () => {
    const notIssued = {
      status: 409,
      headers: { 'retry-after': '10' },
      body: { message: `The NodeConfig for ${REQUEST_ID} is not issued yet.` },
    };
    const ready = { status: 200, body: { requestId: REQUEST_ID, nodeConfig: 'kind: NodeConfig\n', commands: [] } };
    await serve({ [`GET /dev/nodes/${REQUEST_ID}/nodeconfig`]: [notIssued, ready] });
    const file = join(dir, 'nodeConfig.yaml');

    const waited = await run(['nodes', 'config', REQUEST_ID, '--out', file, '--wait']);

    expect(waited.out).toContain('not issued yet (HTTP 409); asking again in 10s');
    expect(readFileSync(file, 'utf8')).toBe('kind: NodeConfig\n');
    expect(waited.code).toBe(0);
  });

  it('writes the NodeConfig with mode 0600, prints the nodeadm commands, never the activation code', async () => {
    const commands = [
      'sudo install -d -m 0700 /etc/eks-hybrid-ops && sudo install -m 0600 nodeConfig.yaml /etc/eks-hybrid-ops/nodeConfig.yaml && rm -f nodeConfig.yaml',
      'sudo nodeadm install 1.33 --credential-provider ssm',
      'sudo nodeadm init -c file:///etc/eks-hybrid-ops/nodeConfig.yaml',
    ];
    const yaml = `apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  hybrid:\n    ssm:\n      activationCode: ${ACTIVATION_CODE}\n`;
    await serve({
      [`GET /dev/nodes/${REQUEST_ID}/nodeconfig`]: [
        { status: 200, body: { requestId: REQUEST_ID, fileName: 'nodeConfig.yaml', nodeConfig: yaml, commands } },
      ],
    });
    const file = join(dir, 'nodeConfig.yaml');
    writeFileSync(file, 'an older file anyone may read', { mode: 0o644 });

    const human = await run(['nodes', 'config', REQUEST_ID, '--out', file]);
    const json = await run(['nodes', 'config', REQUEST_ID, '--out', file, '--json']);

    expect(readFileSync(file, 'utf8')).toBe(yaml);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(human.out).toContain('  sudo nodeadm install 1.33 --credential-provider ssm\n');
    expect(human.out).toContain('  sudo nodeadm init -c file:///etc/eks-hybrid-ops/nodeConfig.yaml\n');
    expect(human.out + json.out).not.toContain(ACTIVATION_CODE);
    expect(JSON.parse(json.out)).toMatchObject({ requestId: REQUEST_ID, file, commands });
    expect([human.code, json.code]).toEqual([0, 0]);
  });

  it('removes a node with DELETE /nodes/{node} and its options as the body: exit 0', async () => {
    const options = join(dir, 'options.json');
    writeFileSync(options, JSON.stringify({ cluster: 'gpu-hybrid-cluster', drainTimeoutSeconds: 600 }));
    await serve({
      'DELETE /dev/nodes/gpu-node-01': [
        {
          status: 202,
          body: { outcome: 'started', requestId: 'off-1', statusUrl: 'https://example/dev/offboardings/off-1' },
        },
      ],
    });

    const { code, out } = await run(['nodes', 'remove', 'gpu-node-01', '--input', options]);

    expect(server.seen).toEqual([
      expect.objectContaining({
        method: 'DELETE',
        path: '/dev/nodes/gpu-node-01',
        body: readFileSync(options, 'utf8'),
      }),
    ]);
    expect(out).toContain('accepted: requestId off-1');
    expect(code).toBe(0);
  });

  it('takes the input of hybridops run offboard-node as the options, without the node the path names', async () => {
    await serve({
      'DELETE /dev/nodes/gpu-node-01': [
        {
          status: 200,
          body: { outcome: 'already-gone', node: 'gpu-node-01', message: 'gpu-node-01 is not in the cluster.' },
        },
      ],
    });

    const { code, out } = await run(['nodes', 'remove', 'gpu-node-01', '--input', 'events/offboard-node.json']);
    const other = await run(['nodes', 'remove', 'gpu-node-02', '--input', 'events/offboard-node.json']);

    const { node: _node, ...options } = JSON.parse(readFileSync('events/offboard-node.json', 'utf8')) as Record<
      string,
      unknown
    >;
    expect(server.seen.map((r) => JSON.parse(r.body) as unknown)).toEqual([options]);
    expect(out).toContain('gpu-node-01 is not in the cluster.');
    expect(code).toBe(0);
    expect(other.err).toContain(`names node "gpu-node-01", but the command removes 'gpu-node-02'`);
    expect(other.code).toBe(2);
  });

  it('shows every field problem of a 400 as the API states them: exit 2', async () => {
    const problems = [
      { field: 'cluster', message: 'cluster must be an EKS cluster name: 1-100 letters, digits, - and _' },
      { field: 'node.name', message: 'node.name is required' },
    ];
    await serve({
      'POST /dev/nodes': [
        { status: 400, body: { message: 'The onboarding request has 2 problem(s); nothing was started.', problems } },
      ],
    });

    const { code, err } = await run(['nodes', 'add', requestFile]);

    expect(err).toContain('The onboarding request has 2 problem(s); nothing was started.');
    for (const p of problems) expect(err).toContain(`  - ${p.field}: ${p.message}`);
    expect(code).toBe(2);
  });

  it('says on a 403 which identity signed and what it lacks: exit 1', async () => {
    const resource = 'arn:aws:execute-api:ap-northeast-2:123456789012:abc123/dev/POST/nodes';
    await serve({
      'POST /dev/nodes': [
        {
          status: 403,
          headers: { 'x-amzn-errortype': 'AccessDeniedException' },
          body: {
            message: `User: arn:aws:sts::123456789012:assumed-role/team-one/alice is not authorized to perform: execute-api:Invoke on resource: ${resource}`,
          },
        },
      ],
    });

    const { code, err } = await run(['nodes', 'add', requestFile]);

    expect(err).toContain('signed as arn:aws:sts::123456789012:assumed-role/team-one/alice');
    expect(err).toContain(`it lacks execute-api:Invoke on ${resource}`);
    expect(code).toBe(1);
  });

  it('is refused when signed with the wrong secret, and says the signature was not accepted: exit 1', async () => {
    await serve({ [`GET /dev/nodes/${REQUEST_ID}`]: [running] });

    const { code, err } = await run(['nodes', 'get', REQUEST_ID], capture(), { ...KEY, secretAccessKey: 'wrong' });

    expect(server.refused).toBe(1);
    expect(err).toContain('HTTP 403');
    expect(err).toContain('the signature was not accepted');
    expect(code).toBe(1);
  });

  it('refuses with exit 2 when no API is given, calling nothing', async () => {
    await serve({});

    expect(await main(['nodes', 'get', REQUEST_ID], capture(), {})).toBe(2);
    expect(await main(['nodes', 'list', '--limit', '0', '--api', server.url], capture(), {})).toBe(2);
    expect(server.seen).toHaveLength(0);
  });
});

describe('hybridops nodes list', () => {
  const listed = (n: number, status = 'SUCCEEDED') =>
    Array.from({ length: n }, (_, i) => ({
      requestId: `gpu-node-${String(i).padStart(2, '0')}-poc-1-0123456789ab`,
      status,
      startedAt: '2026-11-30T08:00:00.000Z',
      stoppedAt: '2026-11-30T08:20:05.000Z',
    }));

  it('follows the pages of GET /nodes up to --limit, asking for no more than it still wants', async () => {
    // Always more: each page as large as asked, its token where the next starts.
    server = await startSigV4Server([KEY], (r) => {
      const size = Number(r.query.limit);
      const start = r.query.nextToken ? Number(r.query.nextToken) : 0;
      return { status: 200, body: { nodes: listed(size), nextToken: String(start + size) } };
    });

    const { code, out } = await run(['nodes', 'list', '--limit', '130', '--status', 'SUCCEEDED', '--json']);

    expect(server.seen.map((r) => r.query)).toEqual([
      { status: 'SUCCEEDED', limit: '100' },
      { status: 'SUCCEEDED', limit: '30', nextToken: '100' },
    ]);
    const body = JSON.parse(out) as { nodes: unknown[]; nextToken?: string };
    expect(body.nodes).toHaveLength(130);
    expect(body.nextToken).toBe('130');
    expect(code).toBe(0);
  });

  it('prints a table, newest first as the API lists them, and stops at the last page (default limit 50)', async () => {
    const running = {
      requestId: 'gpu-node-09-poc-1-ffffffffffff',
      status: 'RUNNING',
      startedAt: '2026-11-30T09:00:00.000Z',
    };
    await serve({ 'GET /dev/nodes': [{ status: 200, body: { nodes: [running, ...listed(1, 'FAILED')] } }] });

    const { code, out } = await run(['nodes', 'list']);

    expect(server.seen.map((r) => r.query)).toEqual([{ limit: '50' }]);
    expect(out.split('\n')).toEqual([
      'REQUEST ID                      STATUS   STARTED               STOPPED',
      'gpu-node-09-poc-1-ffffffffffff  RUNNING  2026-11-30 09:00:00Z  -',
      'gpu-node-00-poc-1-0123456789ab  FAILED   2026-11-30 08:00:00Z  2026-11-30 08:20:05Z',
      '',
    ]);
    expect(code).toBe(0);
  });

  it('shows the 400 of a bad --status as the API states it: exit 2', async () => {
    const problems = [
      { field: 'status', message: "status must be one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, not 'DONE'" },
    ];
    await serve({
      'GET /dev/nodes': [{ status: 400, body: { message: 'The list request has 1 problem(s).', problems } }],
    });

    const { code, err } = await run(['nodes', 'list', '--status', 'DONE']);

    expect(err).toContain('GET /nodes?status=DONE&limit=50 was refused (HTTP 400): The list request has 1 problem(s).');
    expect(err).toContain(`  - status: ${problems[0]?.message}`);
    expect(code).toBe(2);
  });
});

describe('hybridops nodes: the API found from the deployed stack', () => {
  it('signs its calls for the stack output it found; exit 1 and the identity when it may not read the stack', async () => {
    const cfn = mockClient(CloudFormationClient);
    await serve({ [`GET /dev/nodes/${REQUEST_ID}`]: [succeeded] });
    // ServiceEndpoint is an execute-api URL in AWS; a test can only serve on localhost.
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'eks-hybrid-ops-dev',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'ServiceEndpoint', OutputValue: `${server.url}/dev` }],
        },
      ],
    });
    const deps = { credentials: KEY, whoami: async () => 'arn:aws:sts::123456789012:assumed-role/team-one/alice' };
    const io = capture();

    const found = await main(
      ['nodes', 'get', REQUEST_ID, '--stage', 'dev', '--region', 'ap-northeast-2'],
      io,
      {},
      deps,
    );
    cfn.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message:
          'User: arn:aws:sts::123456789012:assumed-role/team-one/alice is not authorized to perform: cloudformation:DescribeStacks',
      }),
    );
    const denied = capture();
    const refused = await main(
      ['nodes', 'get', REQUEST_ID, '--stage', 'dev', '--region', 'ap-northeast-2'],
      denied,
      {},
      deps,
    );
    cfn.restore();

    expect(found).toBe(0);
    expect(io.stdout.text).toContain('SUCCEEDED done');
    expect(server.seen.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /dev/nodes/${REQUEST_ID}`]);
    expect(refused).toBe(1);
    expect(denied.stderr.text).toContain(
      'arn:aws:sts::123456789012:assumed-role/team-one/alice lacks cloudformation:DescribeStacks',
    );
  });
});

describe('hybridops fleets and upgrades', () => {
  it("shows a fleet's servers as a table, each failure's error under its row", async () => {
    const server = (name: string, line: object) => ({ name, requestId: `${name}-r`, gpuRequested: 8, ...line });
    await serve({
      'GET /dev/fleets/fleet-1': [
        {
          status: 200,
          body: {
            fleetId: 'fleet-1',
            status: 'FAILED',
            phase: 'done',
            headline: '1 of 2 servers joined, 1 failed',
            nodes: [
              server('gpu-node-01', { status: 'joined', nodeName: 'mi-0123456789abcdef0', gpuAllocatable: 8 }),
              server('gpu-node-07', {
                status: 'failed',
                phase: 'failed',
                nodeName: null,
                error: 'RegistrationTimeoutError',
                problem: 'gpu-node-07 did not register with SSM in 30 minutes.',
              }),
            ],
          },
        },
      ],
    });

    const { code, out } = await run(['fleets', 'get', 'fleet-1']);

    expect(out).toContain(
      [
        '  servers:',
        '    SERVER       STATUS  PHASE   NODE                  GPUS  REQUEST ID',
        '    gpu-node-01  joined  -       mi-0123456789abcdef0  8/8   gpu-node-01-r',
        '    gpu-node-07  failed  failed  -                     ?/8   gpu-node-07-r',
        '      ^ RegistrationTimeoutError: gpu-node-07 did not register with SSM in 30 minutes.',
      ].join('\n'),
    );
    expect(code).toBe(1);
  });

  it('writes each ready NodeConfig of a fleet under its server name with mode 0600 and lists the pending ones', async () => {
    const handout = (name: string) => ({
      name,
      requestId: `${name}-r`,
      fileName: 'nodeConfig.yaml',
      nodeConfig: `kind: NodeConfig # ${name}\n`,
      commands: ['sudo nodeadm init -c file:///etc/eks-hybrid-ops/nodeConfig.yaml'],
    });
    await serve({
      'GET /dev/fleets/fleet-1/nodeconfigs': [
        {
          status: 200,
          body: {
            fleetId: 'fleet-1',
            nodeConfigs: [handout('gpu-node-01'), handout('gpu-node-02')],
            pending: [{ name: 'gpu-node-03', requestId: 'gpu-node-03-r' }],
          },
        },
      ],
    });

    const { code, out } = await run(['fleets', 'configs', 'fleet-1', '--out', join(dir, 'fleet')]);

    for (const name of ['gpu-node-01', 'gpu-node-02']) {
      const file = join(dir, 'fleet', name, 'nodeConfig.yaml');
      expect(readFileSync(file, 'utf8')).toBe(`kind: NodeConfig # ${name}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(out).toContain('2 NodeConfig(s) written');
    expect(out).toContain('  gpu-node-03: pending (gpu-node-03-r)');
    expect(code).toBe(0);
  });

  it('starts an upgrade and follows GET /upgrades/{id} to its end: exit 1 when it failed', async () => {
    await serve({
      'POST /dev/upgrades': [
        { status: 202, body: { upgradeId: 'up-1', statusUrl: 'https://example/dev/upgrades/up-1' } },
      ],
      'GET /dev/upgrades/up-1': [
        { status: 200, body: { upgradeId: 'up-1', status: 'RUNNING', phase: 'upgrading' } },
        { status: 200, body: { upgradeId: 'up-1', status: 'FAILED', phase: 'failed' } },
      ],
    });

    const { code, out } = await run(['upgrades', 'start', requestFile, '--wait']);

    expect(server.seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /dev/upgrades',
      'GET /dev/upgrades/up-1',
      'GET /dev/upgrades/up-1',
    ]);
    expect(out).toContain('accepted: upgradeId up-1');
    expect(out).toContain('  FAILED failed (10s)');
    expect(code).toBe(1);
  });
});
