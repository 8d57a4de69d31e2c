import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun, SILENT } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import type { StateNode } from '#cli/asl';
import type { LambdaFault } from '#cli/run-control';
import { runWorkflow } from '#cli/runner';
import { onboardNode } from '#cli/workflows/onboard-node';
import type { OnboardingSummary } from '#lib/onboarding/finish';
import type { OnboardingInput } from '#lib/onboarding/state';
import type { SandboxEstate } from '#lib/sandbox/estate';
import type { FaultSpec } from '#lib/sandbox/faults';

/**
 * The onboarding workflow under faults: a step's result lost, a cleanup step refused, SNS down.
 * Whatever happens, nothing of the request is left unnamed, a joined node is a success, and a
 * run whose alert cannot be delivered fails.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'onboard-node.json');
const LOCK = '/eks-hybrid-ops/sandbox/locks/gpu-hybrid-cluster/gpu-node-01';
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-faults-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const body = () => readFileSync(EVENT, 'utf8');
/** Every attempt of a Task fails this way (the first and its two Lambda.Unknown/States.Timeout retries). */
const everyAttempt = (state: string, error: LambdaFault['error'], afterWork: boolean): LambdaFault[] =>
  [1, 2, 3].map((attempt) => ({ state, attempt, error, afterWork }));

async function onboard(options: { faults?: FaultSpec[]; lambdaFaults?: LambdaFault[]; body?: string } = {}) {
  const local = localRuntime('sandbox', home, {});
  const estate = local.estate as SandboxEstate;
  for (const fault of options.faults ?? []) estate.injectFault(fault);
  const sent = estate.outbox.length;
  const { input, result } = await prepareAndRun(
    onboardNode,
    local,
    options.body ?? body(),
    SILENT,
    options.lambdaFaults,
  );
  estate.clearFaults();
  return { result, estate, alerts: estate.outbox.slice(sent), requestId: (input as OnboardingInput).requestId };
}

const requestParameters = (estate: SandboxEstate, requestId: string) =>
  Object.keys(estate.state.parameters).filter((p) => p.includes(requestId));
const requestActivations = (estate: SandboxEstate, requestId: string) =>
  Object.values(estate.state.activations).filter((a) =>
    a.tags.some((t) => t.Key === 'hybridops:request-id' && t.Value === requestId),
  );

describe('case 1: the node lock never outlives the request', () => {
  it('is released when Preflight took it and its result never reached the state (Lambda timed out, every try)', async () => {
    const { result, estate, alerts } = await onboard({
      lambdaFaults: everyAttempt('Preflight', 'Lambda.Unknown', true),
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('Lambda.Unknown');
    expect(result.history.filter((e) => e.type === 'StateRetried' && e.state === 'Preflight')).toHaveLength(2);
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    expect(alerts.at(-1)?.message).toContain(`release-lock ${LOCK}: released`);

    // The same node can be onboarded again at once, not in 25 hours.
    const again = await onboard();
    expect(again.result.status).toBe('SUCCEEDED');
  });

  it('is released when a retry of Preflight then fails for good', async () => {
    const { result, estate } = await onboard({
      lambdaFaults: [{ state: 'Preflight', attempt: 1, error: 'States.Timeout', afterWork: true }],
      // The retry's DescribeCluster (the second call) is refused.
      faults: [{ on: 'eks:DescribeCluster', effect: 'error', error: 'AccessDeniedException', nth: 3, times: 'always' }],
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AccessDeniedException');
    expect(estate.state.parameters[LOCK]).toBeUndefined();
  });
});

describe('case 2: cleanup tries every step on its own and names what is left', () => {
  it('deletes the activation and releases the lock although deleting the parameters is refused', async () => {
    const { result, estate, alerts, requestId } = await onboard({
      lambdaFaults: everyAttempt('CheckRegistration', 'Lambda.Unknown', false),
      faults: [{ on: 'ssm:DeleteParameters', effect: 'error', error: 'AccessDeniedException', times: 'always' }],
    });

    expect(result.status).toBe('FAILED');
    // Refused is not retryable: one cleanup try, then the alert.
    expect(result.visited.filter((s) => s === 'CleanUpOnboarding')).toHaveLength(1);
    expect(requestActivations(estate, requestId)).toEqual([]);
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    expect(requestParameters(estate, requestId)).toHaveLength(2);
    const message = alerts.at(-1)?.message ?? '';
    expect(message).toContain('Still there after 1 cleanup attempt(s); remove by hand:');
    expect(message).toContain(`- parameters /eks-hybrid-ops/sandbox/onboarding/${requestId}: DeleteParameters failed`);
    expect(message).toContain(`aws ssm delete-parameters --region ap-northeast-2 --names`);
    expect(result.error?.cause).toContain(
      `Left to remove: /eks-hybrid-ops/sandbox/onboarding/${requestId} (aws ssm delete-parameters --region ap-northeast-2 `,
    );
  });

  it('tries again what failed for a moment, and reports what was done on the try that did it', async () => {
    const { result, estate, alerts, requestId } = await onboard({
      lambdaFaults: everyAttempt('CheckRegistration', 'Lambda.Unknown', false),
      // Three resets outlast the SDK's own retries on the first try; the second try gets through.
      faults: [{ on: 'ssm:DeleteActivation', effect: 'network', error: 'ECONNRESET', times: 4 }],
    });

    expect(result.visited.filter((s) => s === 'CleanUpOnboarding')).toHaveLength(2);
    expect(requestActivations(estate, requestId)).toEqual([]);
    const message = alerts.at(-1)?.message ?? '';
    expect(message).toMatch(/- delete-activation [0-9a-f-]{36}: deleted/);
    expect(message).toContain('- delete-parameters');
    expect(message).not.toContain('remove by hand');
  });

  it('when CleanUpOnboarding cannot run at all, the alert names the lock, parameters, activations, instances and Node', async () => {
    const { result, alerts, requestId } = await onboard({
      lambdaFaults: [
        ...everyAttempt('CheckRegistration', 'Lambda.Unknown', false),
        ...everyAttempt('CleanUpOnboarding', 'Lambda.Unknown', false),
      ],
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('Lambda.Unknown');
    expect(result.visited.slice(-6)).toEqual([
      'DescribeCleanupFailure',
      'CleanupTriedBefore',
      'ComposeCleanupFailureAlert',
      'ReportFailed',
      'NotifyFailure',
      'Failed',
    ]);
    const message = alerts.at(-1)?.message ?? '';
    expect(message).toContain(`aws ssm delete-parameter --region ap-northeast-2 --name ${LOCK}`);
    expect(message).toContain(`/eks-hybrid-ops/sandbox/onboarding/${requestId}/activation-code`);
    expect(message).toContain(`activations tagged hybridops:request-id=${requestId}`);
    expect(message).toContain(`Key=tag:hybridops:request-id,Values=${requestId}`);
    expect(message).toContain(`kubectl get nodes -l hybridops.io/request-id=${requestId}`);
  });
  it('when a later try of CleanUpOnboarding cannot run, the alert keeps what the earlier try did and left', async () => {
    const { result, alerts } = await onboard({
      lambdaFaults: [
        ...everyAttempt('CheckRegistration', 'Lambda.Unknown', false),
        ...[2, 3, 4].map((attempt) => ({
          state: 'CleanUpOnboarding',
          attempt,
          error: 'Lambda.Unknown' as const,
          afterWork: false,
        })),
      ],
      faults: [{ on: 'ssm:DeleteActivation', effect: 'network', error: 'ECONNRESET', times: 3 }],
    });

    expect(result.visited.slice(-6)).toEqual([
      'DescribeCleanupFailure',
      'CleanupTriedBefore',
      'ComposeCleanupFailureAfterTry',
      'ReportFailed',
      'NotifyFailure',
      'Failed',
    ]);
    const message = alerts.at(-1)?.message ?? '';
    // The earlier try knew the cluster: subscribers filtering on it still get this alert.
    expect(alerts.at(-1)?.attributes.cluster).toBe('gpu-hybrid-cluster');
    expect(message).toContain('Its cleanup ran 1 time(s), then could not run again');
    expect(message).toContain('The last report of the cleanup:');
    expect(message).toMatch(/- activation [0-9a-f-]{36}: DeleteActivation failed/);
    expect(message).toContain('- delete-parameters');
    expect(result.error?.cause).toContain('its cleanup ran 1 time(s), then could not run again');
  });
});

describe('case 3: a node that joined is a success, whatever its cleanup does', () => {
  it('succeeds with a warning that names what Finish could not remove', async () => {
    const { result, estate, alerts, requestId } = await onboard({
      faults: [{ on: 'ssm:DeleteParameters', effect: 'error', error: 'AccessDeniedException', times: 'always' }],
    });

    expect(result.status).toBe('SUCCEEDED');
    const summary = result.output as OnboardingSummary;
    expect(summary.outcome).toBe('joined');
    expect(summary.left.map((l) => l.kind)).toEqual(['parameters']);
    // The lock was released and the activation deleted all the same: the node can be re-onboarded.
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    expect(requestActivations(estate, requestId)).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.attributes.severity).toBe('warning');
    expect(alerts[0]?.subject).toMatch(
      /^\[WARNING\] gpu-node-01 \(mi-[0-9a-f]{17}\) joined gpu-hybrid-cluster and is Ready; 1 left$/,
    );
    expect(alerts[0]?.message).toContain('aws ssm delete-parameters --region ap-northeast-2');
  });

  it('succeeds with a warning naming everything the request may have left when Finish cannot run at all', async () => {
    const { result, alerts, requestId } = await onboard({
      lambdaFaults: everyAttempt('FinishOnboarding', 'Lambda.Unknown', false),
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited.slice(-3)).toEqual(['SummarizeFinishFailure', 'ReportJoined', 'NotifySuccess']);
    expect(result.output).toMatchObject({
      outcome: 'joined-cleanup-failed',
      nodePhase: 'ready',
      finishError: 'Lambda.Unknown',
      requestId,
      left: [{ kind: 'request', resource: requestId, retryable: false }],
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe(`[WARNING] joined, cleanup failed: ${requestId}`);
    expect(alerts[0]?.message).toMatch(/joined cluster gpu-hybrid-cluster as Node mi-[0-9a-f]{17} \(ready\)/);
    expect(alerts[0]?.message).toContain(`aws ssm delete-parameter --region ap-northeast-2 --name ${LOCK}`);
    // Never the instance: it is the new Node.
    expect(alerts[0]?.message).not.toContain('deregister');
  });
});

describe('case 4: an alert is never lost in silence', () => {
  it('retries SNS through 5 transient errors and delivers the one success message', async () => {
    const { result, alerts } = await onboard({
      faults: [{ on: 'sns:Publish', effect: 'error', error: 'InternalErrorException', times: 5 }],
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toMatch(/^\[OK\]/);
  });

  it('fails with AlertDeliveryError when SNS stays down after the node joined; the cause keeps the result', async () => {
    const { result, alerts } = await onboard({
      faults: [{ on: 'sns:Publish', effect: 'error', error: 'InternalErrorException', times: 'always' }],
    });

    expect(alerts).toHaveLength(0);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AlertDeliveryError');
    const cause = JSON.parse(result.error?.cause ?? '{}') as { message: string; result: OnboardingSummary };
    expect(cause.message).toMatch(
      /^Node mi-[0-9a-f]{17} joined, but the alert could not be delivered \(SNS.InternalErrorException\)\.$/,
    );
    expect(cause.result.outcome).toBe('joined');
  });

  it('does not retry an alert SNS refuses for good, and fails with AlertDeliveryError', async () => {
    const { result, estate } = await onboard({
      lambdaFaults: everyAttempt('CheckRegistration', 'Lambda.Unknown', false),
      faults: [{ on: 'sns:Publish', effect: 'error', error: 'AuthorizationErrorException', times: 'always' }],
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AlertDeliveryError');
    expect(estate.calls.filter((c) => c.command === 'Publish')).toHaveLength(1);
    const cause = JSON.parse(result.error?.cause ?? '{}') as { report: { error: string } };
    expect(cause.report.error).toBe('Lambda.Unknown');
  });
});

describe('an execution started without the input POST /nodes builds', () => {
  it.each([
    ['resources', (input: Record<string, unknown>) => ({ ...input, resources: undefined })],
    ['requestId', (input: Record<string, unknown>) => ({ ...input, requestId: undefined })],
  ])('without %s: fails InvalidExecutionInputError before it makes anything', async (_missing, strip) => {
    const local = localRuntime('sandbox', home, {});
    const estate = local.estate as SandboxEstate;
    const prepared = await onboardNode.prepare(body(), local);
    if (!prepared.ok) throw new Error(prepared.problems.join('; '));
    const calls = estate.calls.length;
    const input = JSON.parse(JSON.stringify(strip(prepared.input as Record<string, unknown>)));

    const result = await runWorkflow({
      workflow: 'onboard-node',
      input,
      runtime: local.runtime,
      estate,
      alertTopicArn: local.alertTopicArn,
    });

    expect(result.status).toBe('FAILED');
    expect(result.visited).toEqual(['CheckInput', 'InputRejected']);
    expect(result.error?.name).toBe('InvalidExecutionInputError');
    expect(result.error?.cause).toContain('Start onboardings with POST /nodes');
    expect(estate.calls.slice(calls)).toEqual([]);
    expect(estate.outbox).toEqual([]);
  });
});

describe('an onboarding started on the previous version, finishing on this one', () => {
  // Running executions keep the definition they started with, and call the Lambdas deployed now.
  const previous = JSON.parse(
    readFileSync(join(__dirname, '..', 'fixtures', 'onboard-node.previous.asl.json'), 'utf8'),
  ) as StateNode;

  async function onboardOnPrevious(scenario: string, body = readFileSync(EVENT, 'utf8')) {
    const local = localRuntime('sandbox', home, {}, { scenario });
    const estate = local.estate as SandboxEstate;
    const prepared = await onboardNode.prepare(body, local);
    if (!prepared.ok) throw new Error(prepared.problems.join('; '));
    // Its input was built before the request's resources were part of it.
    const { resources: _new, ...input } = prepared.input as OnboardingInput;
    const result = await runWorkflow({
      workflow: 'onboard-node',
      definition: previous,
      input,
      runtime: local.runtime,
      estate,
      alertTopicArn: local.alertTopicArn,
      afterTask: onboardNode.afterTask?.(local, SILENT, input),
    });
    return { result, estate, requestId: input.requestId };
  }

  it('joins and notifies', async () => {
    const { result, estate } = await onboardOnPrevious('joins');

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ outcome: 'joined' });
    // The previous definition has no GPU check: its GPUs are reported not checked, a warning.
    expect(estate.outbox.map((m) => m.subject)).toEqual([
      expect.stringMatching(
        /^\[WARNING\] gpu-node-01 \(mi-[0-9a-f]{17}\) joined gpu-hybrid-cluster; GPUs not checked$/,
      ),
    ]);
  });

  it('fails, cleans up and alerts', async () => {
    const { result, estate, requestId } = await onboardOnPrevious(
      'never-registers',
      JSON.stringify({ ...JSON.parse(readFileSync(EVENT, 'utf8')), activationExpiresInHours: 1 }),
    );

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('RegistrationTimeoutError');
    expect(requestParameters(estate, requestId)).toEqual([]);
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    expect(estate.outbox.at(-1)?.subject).toMatch(/RegistrationTimeoutError at WaitForRegistration/);
  });
});
