import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PutParameterCommandInput } from '@aws-sdk/client-ssm';
import { parse, stringify } from 'yaml';
import { localRuntime } from '#cli/local-runtime';
import { main } from '#cli/main';
import { prepareAndRun } from '#cli/local-run';
import { onboardNode } from '#cli/workflows/onboard-node';
import type { OnboardingSummary } from '#lib/onboarding/finish';
import type { OnboardingInput } from '#lib/onboarding/state';
import { MAX_REGISTRATION_POLLS } from '#lib/onboarding/registration';
import { openSandbox } from '#lib/sandbox/index';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';
import { awsError, DEFAULT_SEED } from '#lib/sandbox/estate';
import { ssmCommands, ssmService } from '#lib/sandbox/services/ssm';
import type { OutboxMessage } from '#lib/sandbox/services/sns';
import { cliIo } from '../helpers/cli-io';

/**
 * The real statemachines/onboard-node.asl.json, run in-process with the real handlers on the
 * sandbox estate, one scenario per test: which states ran, the output, and what is left behind.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'onboard-node.json');
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-sm-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** Reseeds the estate under `home` from the default seed, changed by `edit`. */
function seedWith(edit: (seed: Record<string, unknown>) => void): void {
  const seed = parse(readFileSync(DEFAULT_SEED, 'utf8')) as Record<string, unknown>;
  edit(seed);
  const file = join(home, 'seed.yaml');
  writeFileSync(file, stringify(seed));
  openSandbox(home, { reset: true, seedFile: file });
}

async function run(
  body: Record<string, unknown>,
  scenario = 'joins',
  faults?: (l: ReturnType<typeof localRuntime>) => void,
) {
  const local = localRuntime('sandbox', home, {}, { scenario });
  faults?.(local);
  // The CLI's own path: validate as POST /nodes does, fetch the NodeConfig once it is issued
  // (which starts the simulated server), run the real ASL and handlers.
  const { input, result } = await prepareAndRun(onboardNode, local, JSON.stringify(body));
  // the sandbox runtime always has an estate
  return { result, estate: local.estate!, requestId: (input as OnboardingInput).requestId };
}

const request = (): Record<string, unknown> => JSON.parse(readFileSync(EVENT, 'utf8'));
const repeat = (times: number, states: string[]) => Array.from({ length: times }, () => states).flat();
const HEAD = ['CheckInput', 'Preflight', 'IssueActivation', 'RenderNodeConfig', 'StartRegistrationWait'];
const FAILURE_TAIL = ['CleanUpOnboarding', 'CleanupComplete', 'ReportFailed', 'NotifyFailure', 'Failed'];

/** The estate's own activations and instances (the seed's), without any this run made. */
const seeded = (estate: ReturnType<typeof openSandbox>) => ({
  activations: estate.seed.activations.map((a) => a.id).sort(),
  instances: estate.seed.fleet.map((f) => f.instanceId).sort(),
});

function expectNothingLeft(estate: ReturnType<typeof openSandbox>) {
  expect(Object.keys(estate.state.activations).sort()).toEqual(seeded(estate).activations);
  expect(Object.keys(estate.state.parameters)).toEqual([]);
}

describe('onboard-node on the sandbox estate', () => {
  it('joins: registers, becomes a Ready Node, cleans up and notifies', async () => {
    const t = cliIo();
    const code = await main(['run', 'onboard-node', '--input', EVENT, '--json'], t.streams, { HYBRIDOPS_HOME: home });

    expect(code).toBe(0);
    const printed = JSON.parse(t.stdout()) as {
      status: string;
      states: string[];
      output: OnboardingSummary;
      alerts: OutboxMessage[];
    };
    expect(printed.status).toBe('SUCCEEDED');
    expect(printed.states).toEqual([
      ...HEAD,
      ...repeat(2, ['WaitForRegistration', 'CheckRegistration', 'IsRegistered']),
      'StartNodeWait',
      ...repeat(3, ['WaitForNode', 'CheckNode', 'IsNodeSettled']),
      // The device plugin registers the GPUs 40 s after Ready: seen on the second look (15 s, then 30 s).
      'IsGpuCheckNeeded',
      'StartGpuWait',
      ...repeat(2, ['WaitForGpus', 'CheckGpus', 'AreGpusSettled']),
      'IsSmokeTestWanted',
      'StartSmokeTest',
      'WaitForSmokeTest',
      'CheckSmokeTest',
      'IsSmokeTestDone',
      'FinishOnboarding',
      'FinishComplete',
      'ReportJoined',
      'NotifySuccess',
    ]);
    expect(printed.output).toMatchObject({ outcome: 'joined', nodeName: 'gpu-node-01', ipAddress: '192.168.10.21' });
    expect(printed.output.instanceId).toMatch(/^mi-[0-9a-f]{17}$/);
    // The simulated server registers 20 s after the NodeConfig is fetched (sandbox/estate.yaml);
    // the workflow saw it on its second poll, 30 s in, and reports when it really registered.
    expect(printed.output.timings?.waitingForRegistration).toBe(20);
    expect(printed.alerts).toHaveLength(1);
    expect(printed.alerts[0]?.attributes).toEqual({
      severity: 'info',
      cluster: 'gpu-hybrid-cluster',
      check: 'onboarding',
    });

    const estate = openSandbox(home);
    expectNothingLeft(estate);
    const node = estate.state.nodes[printed.output.instanceId];
    expect(node?.ready.status).toBe('True');
    expect(node?.labels['hybridops.io/request-id']).toBe(printed.output.requestId);
    expect(node?.taints).toEqual(['nvidia.com/gpu=present:NoSchedule']);
    // The sandbox lists it as the Kubernetes API would, by the hybrid compute-type label.
    const listed: string[] = [];
    const access = {
      name: 'gpu-hybrid-cluster',
      region: 'ap-northeast-2',
      endpoint: 'https://x',
      certificateAuthority: '',
    };
    for await (const page of sandboxKubeApi(estate)(access).listHybridNodes()) listed.push(...page.map((n) => n.name));
    expect(listed.sort()).toEqual([...seeded(estate).instances, printed.output.instanceId].sort());
    const file = join(home, 'out', printed.output.requestId, 'nodeConfig.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('prints each state as it enters and leaves it, and where the NodeConfig went', async () => {
    const t = cliIo();
    expect(await main(['run', 'onboard-node', '--input', EVENT], t.streams, { HYBRIDOPS_HOME: home })).toBe(0);
    expect(t.stdout()).toContain('  -> Preflight\n');
    expect(t.stdout()).toMatch(/ {2}<- Preflight \(\d+ ms\)\n/);
    expect(t.stdout()).toContain('sudo nodeadm install 1.33 --credential-provider ssm');
    expect(t.stdout()).toContain('sudo install -m 0600 nodeConfig.yaml /etc/eks-hybrid-ops/nodeConfig.yaml');
    expect(t.stdout()).toContain('sudo nodeadm init -c file:///etc/eks-hybrid-ops/nodeConfig.yaml');
    expect(t.stdout()).toContain('SUCCEEDED: gpu-node-01 joined gpu-hybrid-cluster');
  });

  it('a preflight rejection creates no activation, alerts and fails with the check name', async () => {
    seedWith((seed) => {
      const [cluster] = seed.clusters as Array<{ accessEntries: unknown[] }>;
      if (cluster) cluster.accessEntries = [];
    });
    const { result, estate } = await run(request());

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('HybridAccessEntryMissingError');
    expect(result.visited).toEqual(['CheckInput', 'Preflight', ...FAILURE_TAIL]);
    expect(estate.calls.filter((c) => c.command === 'CreateActivation')).toHaveLength(0);
    expectNothingLeft(estate);
    const alert = estate.outbox.at(-1);
    expect(alert?.attributes.severity).toBe('critical');
    expect(alert?.message).toContain('failed at step Preflight');
    expect(alert?.message).toContain('create-access-entry');
  });

  it('never-registers: times out when the activation expires, cleans up and alerts', async () => {
    const { result, estate } = await run({ ...request(), activationExpiresInHours: 1 }, 'never-registers');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('RegistrationTimeoutError');
    expect(result.error?.cause).toContain('Failed at WaitForRegistration');
    expect(result.visited.slice(-6)).toEqual(['CheckRegistration', ...FAILURE_TAIL]);
    // Backing off 15, 30, 60, 120, 240, 300... to one hour: 17 polls, not 360 at a fixed 10 s.
    expect(result.visited.filter((s) => s === 'CheckRegistration')).toHaveLength(17);
    expectNothingLeft(estate);
    expect(Object.keys(estate.state.parameters).some((p) => p.includes('/locks/'))).toBe(false);
    expect(estate.outbox.at(-1)?.message).toContain('RegistrationTimeoutError');
  });

  it('retries throttling and still onboards', async () => {
    const { result, estate } = await run(request(), 'joins', (local) =>
      local.estate?.injectFault({
        on: 'ssm:CreateActivation',
        effect: 'error',
        error: 'ThrottlingException',
        times: 4,
      }),
    );

    expect(result.status).toBe('SUCCEEDED');
    // The SDK tries 3 times; then Step Functions retries the step, whose second call goes through.
    expect(estate.calls.filter((c) => c.command === 'CreateActivation')).toHaveLength(5);
    const retried = result.history.filter((e) => e.type === 'StateRetried' && e.state === 'IssueActivation');
    expect(retried).toHaveLength(1);
  });

  it('retries a hybrid role SSM cannot see yet, then gives up, cleans up and alerts', async () => {
    seedWith((seed) => {
      seed.iamRoles = [];
    });
    const { result, estate } = await run(request());

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('HybridRolePropagationError');
    expect(estate.calls.filter((c) => c.command === 'CreateActivation')).toHaveLength(7);
    expect(result.visited).toEqual(['CheckInput', 'Preflight', 'IssueActivation', ...FAILURE_TAIL]);
    expectNothingLeft(estate);
  });

  it('does not retry another ValidationException about the role: it fails at once, cleans up and alerts', async () => {
    const { result, estate } = await run(request(), 'joins', (local) =>
      local.estate?.injectFault({
        on: 'ssm:CreateActivation',
        effect: 'error',
        error: 'ValidationException',
        message: 'The IAM role for the activation is not valid.',
        times: 'always',
      }),
    );

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('ActivationRejectedError');
    expect(estate.calls.filter((c) => c.command === 'CreateActivation')).toHaveLength(1);
    expect(result.history.filter((e) => e.type === 'StateRetried' && e.state === 'IssueActivation')).toEqual([]);
    expect(result.visited).toEqual(['CheckInput', 'Preflight', 'IssueActivation', ...FAILURE_TAIL]);
    expectNothingLeft(estate);
  });

  it('stays-not-ready: reports the node registered and NotReady for want of a CNI, without failing', async () => {
    const { result, estate } = await run(request(), 'stays-not-ready');

    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as OnboardingSummary;
    expect(output.outcome).toBe('joined-not-ready');
    expect(output.hint).toMatch(/no CNI runs on it yet.*Cilium or Calico/);
    expect(estate.outbox.at(-1)?.attributes.severity).toBe('warning');
    expect(estate.outbox.at(-1)?.message).toContain('Cilium or Calico');
    expectNothingLeft(estate);
  });

  it('registers-no-node: deregisters the instance that never became a Node', async () => {
    const { result, estate } = await run(request(), 'registers-no-node');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('NodeJoinTimeoutError');
    expect(Object.keys(estate.state.instances).sort()).toEqual(seeded(estate).instances);
    expect(estate.outbox.at(-1)?.message).toMatch(/deregister-instance mi-[0-9a-f]{17}: deregistered/);
    expectNothingLeft(estate);
  });

  it('tries the cleanup again while a step keeps failing, then alerts naming what is left and how to remove it', async () => {
    const { result, estate, requestId } = await run(
      { ...request(), activationExpiresInHours: 1 },
      'never-registers',
      (local) =>
        local.estate?.injectFault({
          on: 'ssm:DeleteParameters',
          effect: 'error',
          error: 'ThrottlingException',
          times: 12,
        }),
    );

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('RegistrationTimeoutError');
    expect(result.visited.slice(result.visited.indexOf('CleanUpOnboarding'))).toEqual([
      ...repeat(3, ['CleanUpOnboarding', 'CleanupComplete', 'WaitBeforeCleanupRetry']),
      ...FAILURE_TAIL,
    ]);
    // The other steps ran on the first try all the same.
    expect(Object.keys(estate.state.activations).sort()).toEqual(seeded(estate).activations);
    expect(Object.keys(estate.state.parameters).filter((p) => p.includes('/locks/'))).toEqual([]);
    const alert = estate.outbox.at(-1);
    expect(alert?.subject).toMatch(/RegistrationTimeoutError at WaitForRegistration; 1 left$/);
    expect(alert?.message).toContain('Still there after 4 cleanup attempt(s); remove by hand:');
    expect(alert?.message).toContain(
      `aws ssm delete-parameters --region ap-northeast-2 --names /eks-hybrid-ops/sandbox/onboarding/${requestId}/activation-code /eks-hybrid-ops/sandbox/onboarding/${requestId}/node-config`,
    );
    expect(alert?.message).toMatch(/- delete-activation [0-9a-f-]{36}: deleted/);
    expect(alert?.message).toContain(': released');
  });

  it('cleans up an activation an interrupted IssueActivation never recorded', async () => {
    // CreateActivation succeeds, then storing the code fails for good and its rollback too.
    const { result, estate } = await run(request(), 'joins', (local) => {
      const estate = local.estate as NonNullable<typeof local.estate>;
      estate.register({
        ...ssmService,
        commands: {
          PutParameter: (e: typeof estate, input: PutParameterCommandInput) => {
            if (String(input.Name).endsWith('/activation-code'))
              throw awsError('ssm', 'AccessDeniedException', 'denied');
            return ssmCommands.PutParameter(e, input);
          },
        },
      });
      estate.injectFault({ on: 'ssm:DeleteActivation', effect: 'error', error: 'AccessDeniedException' });
    });

    expect(result.status).toBe('FAILED');
    expect(result.visited).toEqual(['CheckInput', 'Preflight', 'IssueActivation', ...FAILURE_TAIL]);
    expect(estate.outbox.at(-1)?.message).toMatch(
      /delete-activation [0-9a-f-]{36}: deleted \(not recorded in the state\)/,
    );
    expectNothingLeft(estate);
  });

  it('refuses a second live onboarding of the same node', async () => {
    const local = localRuntime('sandbox', home, {});
    await local.estate?.answer('ssm', 'PutParameter', {
      Name: '/eks-hybrid-ops/sandbox/locks/gpu-hybrid-cluster/gpu-node-01',
      Type: 'String',
      Value: JSON.stringify({ requestId: 'gpu-node-01-000000000000', expiresAt: '2999-01-01T00:00:00.000Z' }),
    });
    const { result, estate } = await run(request());

    expect(result.error?.name).toBe('OnboardingInProgressError');
    expect(result.visited).toEqual(['CheckInput', 'Preflight', ...FAILURE_TAIL]);
    // The other request's lock is still there.
    expect(estate.state.parameters['/eks-hybrid-ops/sandbox/locks/gpu-hybrid-cluster/gpu-node-01']?.value).toContain(
      'gpu-node-01-000000000000',
    );
  });

  it('rejects a bad input file with exit code 2 and starts nothing', async () => {
    const bad = join(home, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...request(), node: { name: 'gpu-node-01', ip: '10.0.0.5', os: 'rocky-9' } }));
    const t = cliIo();

    expect(await main(['run', 'onboard-node', '--input', bad], t.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(t.stderr()).toContain('node.os: Rocky Linux is not supported');
    const after = openSandbox(home);
    expect(Object.keys(after.state.activations).sort()).toEqual(seeded(after).activations);
  });

  it('exits 2 on misuse', async () => {
    const t = cliIo();
    expect(await main(['run', 'onboard-node'], t.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(await main(['run', 'no-such-flow', '--input', EVENT], t.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(
      await main(['run', 'onboard-node', '--input', EVENT, '--estate', 'moon'], t.streams, { HYBRIDOPS_HOME: home }),
    ).toBe(2);
    expect(
      await main(['run', 'onboard-node', '--input', EVENT, '--scenario', 'nope'], t.streams, { HYBRIDOPS_HOME: home }),
    ).toBe(2);
    expect(t.stderr()).toContain('unknown scenario');
  });
});

describe('onboard-node within AWS limits', () => {
  it('waits out a 30-day activation without passing the 25,000-event history limit', async () => {
    const { result, estate } = await run({ ...request(), activationExpiresInHours: 720 }, 'never-registers');

    // Failing with its own error means CleanUpOnboarding ran; the history limit would have skipped it.
    expect(result.error?.name).toBe('RegistrationTimeoutError');
    expect(result.visited.filter((s) => s === 'CheckRegistration').length).toBeLessThanOrEqual(MAX_REGISTRATION_POLLS);
    expectNothingLeft(estate);
  }, 60_000);
});
