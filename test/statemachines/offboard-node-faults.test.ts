import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRuntime } from '#cli/local-runtime';
import { prepareAndRun, SILENT } from '#cli/local-run';
import type { LambdaFault } from '#cli/run-control';
import { runWorkflow } from '#cli/runner';
import { offboardNode } from '#cli/workflows/offboard-node';
import type { KubeApiFactory } from '#lib/kube/types';
import type { OffboardingSummary } from '#lib/offboarding/remove';
import type { OffboardingInput } from '#lib/offboarding/state';
import type { SandboxEstate } from '#lib/sandbox/estate';
import type { FaultSpec } from '#lib/sandbox/faults';

/**
 * The offboarding workflow under faults, on gpu-node-12 of the seed's fleet: a step refused or
 * crashing, the cleanup itself unable to run, SNS down, a drain that never ends. Whatever happens,
 * the node is never left cordoned unannounced, the lock never outlives the run unnamed, and a run
 * whose alert cannot be delivered fails.
 */

const NODE = 'mi-0a2b4c6d8e0f12342';
const LOCK = '/eks-hybrid-ops/sandbox/locks/gpu-hybrid-cluster/gpu-node-12';
/** Long enough for the seed's budget: one llm-inference pod at a time, its replacement Ready 60 s later. */
const BODY = { node: 'gpu-node-12', drainTimeoutSeconds: 300 };
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-offboard-faults-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** Every attempt of a Task fails this way (the first and its two Lambda.Unknown/States.Timeout retries). */
const everyAttempt = (state: string, error: LambdaFault['error'], afterWork: boolean): LambdaFault[] =>
  [1, 2, 3].map((attempt) => ({ state, attempt, error, afterWork }));

async function offboard(
  options: {
    faults?: FaultSpec[];
    lambdaFaults?: LambdaFault[];
    body?: Record<string, unknown>;
    kube?: (real: KubeApiFactory) => KubeApiFactory;
  } = {},
) {
  const local = localRuntime('sandbox', home, {});
  const estate = local.estate as SandboxEstate;
  if (options.kube) local.runtime.nodes = options.kube(local.runtime.nodes);
  for (const fault of options.faults ?? []) estate.injectFault(fault);
  const sent = estate.outbox.length;
  const { input, result } = await prepareAndRun(
    offboardNode,
    local,
    JSON.stringify(options.body ?? BODY),
    SILENT,
    options.lambdaFaults,
  );
  estate.clearFaults();
  return { result, estate, alerts: estate.outbox.slice(sent), input: input as OffboardingInput };
}

describe('offboard-node under faults', () => {
  it('the Node cannot be deleted (RBAC not applied): the drained node stays cordoned, the alert says how to finish', async () => {
    const { result, estate, alerts } = await offboard({
      faults: [{ on: 'kubernetes:DeleteNode', effect: 'error', error: '403', times: 'always' }],
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('KubernetesApiError');
    expect(result.visited.slice(-5)).toEqual([
      'RemoveNode',
      'CleanUpOffboarding',
      'CleanupComplete',
      'NotifyFailure',
      'Failed',
    ]);
    expect(estate.state.nodes[NODE]?.unschedulable).toBe(true);
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toMatch(
      /^\[CRITICAL\] gpu-node-12 offboarding failed, left cordoned \(1 left\): KubernetesApiError at RemoveNode$/,
    );
    expect(alerts[0]?.message).toContain('node-operator-rbac.yaml');
    expect(alerts[0]?.message).toContain(`kubectl delete node ${NODE}`);
    expect(alerts[0]?.message).toContain(`to keep it instead: kubectl uncordon ${NODE}`);
  });

  it('the node cannot be uncordoned after a failed drain: the alert says it is still cordoned and how to undo it', async () => {
    const { result, estate, alerts } = await offboard({
      lambdaFaults: everyAttempt('DrainNode', 'Lambda.Unknown', false),
      faults: [{ on: 'kubernetes:PatchNode', effect: 'error', error: '403', nth: 2, times: 'always' }],
    });

    expect(result.error?.name).toBe('Lambda.Unknown');
    expect(result.visited.slice(-6)).toEqual([
      'ShouldUncordon',
      'UncordonNode',
      'CleanUpOffboarding',
      'CleanupComplete',
      'NotifyFailure',
      'Failed',
    ]);
    expect(estate.state.nodes[NODE]?.unschedulable).toBe(true);
    expect(alerts[0]?.subject).toMatch(/offboarding failed, left cordoned \(1 left\): Lambda\.Unknown at DrainNode$/);
    expect(alerts[0]?.message).toContain('uncordoning it failed (KubernetesApiError');
    expect(alerts[0]?.message).toContain(`kubectl uncordon ${NODE}`);
  });

  it('the cleanup cannot run at all: the last-resort alert carries the commands fixed at submission', async () => {
    const { result, estate, alerts, input } = await offboard({
      lambdaFaults: [
        ...everyAttempt('DrainNode', 'Lambda.Unknown', false),
        ...everyAttempt('CleanUpOffboarding', 'Lambda.Unknown', false),
      ],
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('Lambda.Unknown');
    expect(result.visited.slice(-6)).toEqual([
      'CleanUpOffboarding',
      'DescribeCleanupFailure',
      'CleanupTriedBefore',
      'ComposeCleanupFailureAlert',
      'NotifyFailure',
      'Failed',
    ]);
    // The workflow uncordoned it before the cleanup that could not run.
    expect(estate.state.nodes[NODE]?.unschedulable).toBeFalsy();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe('[CRITICAL] Offboarding failed and its cleanup failed too');
    expect(alerts[0]?.message).toContain(input.resources.manualCleanup);
    expect(alerts[0]?.message).toContain(`aws ssm delete-parameter --region ap-northeast-2 --name ${LOCK}`);
    expect(alerts[0]?.message).toContain(`kubectl uncordon ${NODE}`);
  });

  it('SNS is down for good: the node is offboarded, the run fails AlertDeliveryError with the result in its cause', async () => {
    const { result, estate, alerts } = await offboard({
      faults: [{ on: 'sns:Publish', effect: 'error', error: 'InternalErrorException', times: 'always' }],
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AlertDeliveryError');
    expect(result.visited.slice(-4)).toEqual([
      'NotifyOffboarded',
      'DescribeUndeliveredSuccess',
      'UndeliveredCause',
      'AlertNotDelivered',
    ]);
    const cause = JSON.parse(result.error?.cause ?? '{}') as { result: OffboardingSummary };
    expect(cause.result).toMatchObject({ outcome: 'offboarded', nodeName: NODE });
    expect(estate.state.nodes[NODE]).toBeUndefined();
    expect(alerts).toEqual([]);
  });

  it('a drain that never ends (pods that never go) is stopped past its deadline and grace, within the history limit', async () => {
    const { result, estate, alerts } = await offboard({
      body: { ...BODY, drainTimeoutSeconds: 60, force: true },
      kube: (real) => (cluster) => {
        const api = real(cluster);
        return {
          ...api,
          // Every pod is evicted, and none ever goes: a finalizer, or a kubelet that cannot confirm.
          async evictPod() {
            return { outcome: 'evicting' as const };
          },
          async deletePod() {
            return true;
          },
          async *listPodsOnNode(name, pageSize) {
            for await (const page of api.listPodsOnNode(name, pageSize)) {
              yield page.map((p) => (p.controller?.kind === 'DaemonSet' ? p : { ...p, terminating: true }));
            }
          },
        };
      },
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('DrainBlockedError');
    expect(result.visited.slice(result.visited.indexOf('DrainStuck'))).toEqual([
      'DrainStuck',
      'ShouldUncordon',
      'UncordonNode',
      'CleanUpOffboarding',
      'CleanupComplete',
      'NotifyFailure',
      'Failed',
    ]);
    // (60 s + 600 s of grace) at a pass every 15 s; force deleted them each pass past the deadline, in vain.
    expect(result.visited.filter((s) => s === 'DrainNode')).toHaveLength(44);
    expect(estate.state.nodes[NODE]?.unschedulable).toBeFalsy();
    expect(alerts[0]?.message).toContain('did not finish in 44 passes');
    expect(alerts[0]?.message).toContain(`kubectl get pods -A --field-selector spec.nodeName=${NODE}`);
  });

  it('refuses an execution started without the input DELETE /nodes/{node} builds, before it changes anything', async () => {
    const local = localRuntime('sandbox', home, {});
    const result = await runWorkflow({
      workflow: 'offboard-node',
      input: { requestId: 'x-1', request: { cluster: 'gpu-hybrid-cluster' }, target: { nodeName: NODE } },
      runtime: local.runtime,
      estate: local.estate,
      alertTopicArn: local.alertTopicArn,
    });
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidExecutionInputError');
    expect(result.visited).toEqual(['CheckInput', 'InputRejected']);
  });
});
