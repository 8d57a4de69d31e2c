import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRuntime } from '#cli/local-runtime';
import { prepareAndRun } from '#cli/local-run';
import { main } from '#cli/main';
import { nightlySweep, type SweepOutput } from '#cli/workflows/nightly-sweep';
import { offboardNode } from '#cli/workflows/offboard-node';
import type { OffboardingSummary } from '#lib/offboarding/remove';
import type { OffboardingInput } from '#lib/offboarding/state';
import { openSandbox } from '#lib/sandbox/index';
import type { OutboxMessage } from '#lib/sandbox/services/sns';
import { cliIo } from '../helpers/cli-io';

/**
 * The real statemachines/offboard-node.asl.json, run in-process with the real handlers on the
 * sandbox estate: `npm start` joins gpu-node-01, then each test offboards it (or a node of the
 * seed's fleet) one way. Which states ran, the output, the alert, and what is left.
 */

const ROOT = join(__dirname, '..', '..');
const ONBOARD = join(ROOT, 'events', 'onboard-node.json');
const EVENT = join(ROOT, 'events', 'offboard-node.json');
const LOCK = '/eks-hybrid-ops/sandbox/locks/gpu-hybrid-cluster/gpu-node-01';
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-offboard-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** `npm start`: gpu-node-01 joins the sandbox cluster; its Node name. */
async function joinGpuNode01(): Promise<string> {
  const t = cliIo();
  expect(await main(['run', 'onboard-node', '--input', ONBOARD, '--json'], t.streams, { HYBRIDOPS_HOME: home })).toBe(
    0,
  );
  return (JSON.parse(t.stdout()) as { output: { instanceId: string } }).output.instanceId;
}

/** Offboards with the CLI's own path (validated as DELETE /nodes/{node} validates it). */
async function offboard(body: Record<string, unknown>, scenario = 'joins') {
  const local = localRuntime('sandbox', home, {}, { scenario });
  const estate = local.estate as NonNullable<typeof local.estate>;
  const sent = estate.outbox.length;
  const { input, result } = await prepareAndRun(offboardNode, local, JSON.stringify(body));
  return { result, estate, input: input as OffboardingInput, alerts: estate.outbox.slice(sent), local };
}

const event = (): Record<string, unknown> => JSON.parse(readFileSync(EVENT, 'utf8'));
const count = (states: string[], name: string) => states.filter((s) => s === name).length;

describe('offboard-node on the sandbox estate', () => {
  it('offboards the node npm start joined: drained, nodeadm uninstalled, Node deleted, one alert with the cost stopped', async () => {
    const nodeName = await joinGpuNode01();
    const t = cliIo();
    const code = await main(['run', 'offboard-node', '--input', EVENT, '--json'], t.streams, { HYBRIDOPS_HOME: home });

    expect(code).toBe(0);
    const printed = JSON.parse(t.stdout()) as {
      status: string;
      states: string[];
      output: OffboardingSummary;
      alerts: OutboxMessage[];
    };
    expect(printed.status).toBe('SUCCEEDED');
    const states = printed.states;
    expect(states.slice(0, 7)).toEqual([
      'CheckInput',
      'PrepareOffboarding',
      'HasNode',
      'CordonNode',
      'ShouldDrain',
      'StartDrain',
      'DrainNode',
    ]);
    expect(states.slice(states.indexOf('ShouldUninstall'))).toEqual([
      'ShouldUninstall',
      'RunNodeCommand',
      ...states.slice(states.indexOf('RunNodeCommand') + 1, states.lastIndexOf('IsCommandDone') + 1),
      'RemoveNode',
      'RemoveComplete',
      'NotifyOffboarded',
    ]);
    // Each drain pass waits for the evicted pods to go; each look at the command waits for nodeadm.
    expect(count(states, 'DrainNode')).toBeGreaterThan(1);
    expect(count(states, 'CheckNodeCommand')).toBeGreaterThan(1);
    expect(printed.output).toMatchObject({
      outcome: 'offboarded',
      cluster: 'gpu-hybrid-cluster',
      nodeName,
      onboardedName: 'gpu-node-01',
      costPerDayUsd: 590.82,
      uninstall: { ran: true, reason: 'host-online', status: 'Success' },
      left: [],
    });
    expect(printed.output.uninstall.outputTail?.join('\n')).toContain('Finished uninstallation tasks');
    expect(printed.output.actions.map((a) => `${a.action}: ${a.outcome}`)).toEqual(
      expect.arrayContaining([
        'cordon: cordoned',
        'delete-node: deleted',
        'deregister-instance: deregistered by nodeadm uninstall',
        'release-lock: released',
      ]),
    );
    expect(printed.alerts).toHaveLength(1);
    expect(printed.alerts[0]?.subject).toBe('[OK] gpu-node-01 offboarded: 590.82 USD/day stopped');
    expect(printed.alerts[0]?.attributes).toEqual({
      severity: 'info',
      cluster: 'gpu-hybrid-cluster',
      check: 'offboarding',
    });

    const estate = openSandbox(home);
    expect(estate.state.nodes[nodeName]).toBeUndefined();
    expect(estate.state.instances[nodeName]).toBeUndefined();
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    expect(Object.keys(estate.state.parameters)).toEqual([]);
    expect(Object.keys(estate.state.activations).sort()).toEqual(estate.seed.activations.map((a) => a.id).sort());
    // The fleet is untouched.
    for (const f of estate.seed.fleet) expect(estate.state.nodes[f.instanceId]?.unschedulable).toBeFalsy();
  });

  it('prints what it did, and refuses a second offboarding of the node it took out (exit 2, saying so)', async () => {
    await joinGpuNode01();
    const first = cliIo();
    expect(await main(['run', 'offboard-node', '--input', EVENT], first.streams, { HYBRIDOPS_HOME: home })).toBe(0);
    expect(first.stdout()).toMatch(
      /SUCCEEDED: gpu-node-01 \(mi-[0-9a-f]{17}\) offboarded from gpu-hybrid-cluster; 590\.82 USD a day stopped\./,
    );
    expect(first.stdout()).toContain('operators notified: [OK] gpu-node-01 offboarded');

    const again = cliIo();
    expect(await main(['run', 'offboard-node', '--input', EVENT], again.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(again.stderr()).toContain(
      'gpu-node-01 is not there: gpu-hybrid-cluster has no Node and no registered managed instance named gpu-node-01',
    );
    expect(again.stderr()).toContain('npm start onboards gpu-node-01');
  });

  it('says so and exits 2 when gpu-node-01 never joined', async () => {
    const t = cliIo();
    expect(await main(['run', 'offboard-node', '--input', EVENT], t.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(t.stderr()).toContain('gpu-node-01 is not there');
  });

  it('host offline: no drain (nothing runs on it), no uninstall, the Node deleted and its instance deregistered; a warning names what the host keeps', async () => {
    const nodeName = await joinGpuNode01();
    const { result, estate, alerts } = await offboard(event(), 'host-offline');

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).not.toContain('DrainNode');
    expect(result.visited).not.toContain('RunNodeCommand');
    expect(result.visited).toEqual(
      expect.arrayContaining(['CordonNode', 'ShouldDrain', 'ShouldUninstall', 'RemoveNode', 'NotifyOffboarded']),
    );
    const output = result.output as OffboardingSummary;
    expect(output.uninstall).toEqual({ ran: false, reason: 'host-offline' });
    expect(output.left).toEqual([expect.objectContaining({ kind: 'host', resource: nodeName })]);
    expect(output.actions).toContainEqual({
      action: 'deregister-instance',
      resource: nodeName,
      outcome: 'deregistered',
    });
    expect(estate.state.nodes[nodeName]).toBeUndefined();
    expect(estate.state.instances[nodeName]).toBeUndefined();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe('[WARNING] gpu-node-01 offboarded: 590.82 USD/day stopped; host not uninstalled');
    expect(alerts[0]?.message).toContain("The host still has nodeadm's files");
    expect(alerts[0]?.message).toContain('When the host is back, run on it: sudo nodeadm uninstall --force');
  });

  it('blocked drain without force: gives up at the deadline, uncordons, alerts with the pods that blocked it', async () => {
    const nodeName = await joinGpuNode01();
    const { result, estate, alerts } = await offboard({ ...event(), drainTimeoutSeconds: 120 }, 'drain-blocked');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('DrainBlockedError');
    expect(result.visited.slice(result.visited.lastIndexOf('DrainNode'))).toEqual([
      'DrainNode',
      'ShouldUncordon',
      'UncordonNode',
      'CleanUpOffboarding',
      'CleanupComplete',
      'NotifyFailure',
      'Failed',
    ]);
    // A pass every 15 s from the start: the ninth comes just past the 120 s deadline.
    expect(count(result.visited, 'DrainNode')).toBe(9);
    expect(estate.state.nodes[nodeName]?.unschedulable).toBeFalsy();
    expect(estate.state.instances[nodeName]).toBeDefined();
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe(
      '[CRITICAL] gpu-node-01 offboarding failed, back in service: DrainBlockedError at DrainNode',
    );
    expect(alerts[0]?.message).toMatch(
      /would not leave: ml\/embeddings-[a-z0-9-]+ \(Cannot evict pod as it would violate the pod's disruption budget/,
    );
    expect(alerts[0]?.message).toContain('the node is back in service and nothing else was changed');
    expect(alerts[0]?.message).toContain('force: true');
  });

  it('blocked drain with force: deletes the pods past their budgets at the deadline and goes on', async () => {
    const nodeName = await joinGpuNode01();
    const { result, estate } = await offboard({ ...event(), drainTimeoutSeconds: 120, force: true }, 'drain-blocked');

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).toContain('RecordForcedPods');
    const drain = (result.output as OffboardingSummary).actions.find((a) => a.action === 'drain');
    expect(drain?.outcome).toMatch(/2 pod\(s\) deleted past their PodDisruptionBudget \(force\): ml\/embeddings-/);
    expect(estate.state.nodes[nodeName]).toBeUndefined();
  });

  it('failed uninstall: the drained node stays cordoned, the alert lists what is left with the commands that finish it', async () => {
    const nodeName = await joinGpuNode01();
    const { result, estate, alerts } = await offboard(event(), 'uninstall-fails');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('NodeCommandFailedError');
    expect(result.visited.slice(-5)).toEqual([
      'CheckNodeCommand',
      'CleanUpOffboarding',
      'CleanupComplete',
      'NotifyFailure',
      'Failed',
    ]);
    expect(result.visited).not.toContain('UncordonNode');
    expect(estate.state.nodes[nodeName]?.unschedulable).toBe(true);
    expect(estate.state.instances[nodeName]).toBeDefined();
    expect(estate.state.parameters[LOCK]).toBeUndefined();
    const alert = alerts[0];
    expect(alert?.subject).toMatch(
      /^\[CRITICAL\] gpu-node-01 offboarding failed, left cordoned \(3 left\): NodeCommandFailedError/,
    );
    expect(alert?.message).toContain('only static pods and pods controlled by daemon-sets can be running on the node');
    expect(alert?.message).toContain('sudo nodeadm uninstall --force');
    expect(alert?.message).toContain(`kubectl delete node ${nodeName}`);
    expect(alert?.message).toContain(`to keep it instead: kubectl uncordon ${nodeName}`);
    expect(alert?.message).toContain(
      `aws ssm deregister-managed-instance --region ap-northeast-2 --instance-id ${nodeName}`,
    );
    expect(result.error?.cause).toMatch(
      /^Failed at CheckNodeCommand with NodeCommandFailedError: .* Left: host mi-[0-9a-f]{17}, node mi-[0-9a-f]{17}, managed-instance mi-[0-9a-f]{17}\.$/,
    );
  });

  it('skipUninstall: no command to the host; the instance is deregistered from the AWS side', async () => {
    const nodeName = await joinGpuNode01();
    const { result, estate, alerts } = await offboard({ ...event(), skipUninstall: true });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).not.toContain('RunNodeCommand');
    expect(estate.calls.filter((c) => c.command === 'SendCommand')).toEqual([]);
    const output = result.output as OffboardingSummary;
    expect(output.uninstall).toEqual({ ran: false, reason: 'skipped-by-request' });
    expect(output.actions).toContainEqual({
      action: 'deregister-instance',
      resource: nodeName,
      outcome: 'deregistered',
    });
    expect(estate.state.instances[nodeName]).toBeUndefined();
    expect(alerts[0]?.message).toContain(
      'nodeadm uninstall did not run on the host. If it is to be reused, run on it: sudo nodeadm uninstall --force',
    );
  });

  it('after an offboarding, the next nightly sweep neither bills nor reports the node', async () => {
    const nodeName = await joinGpuNode01();
    expect((await offboard(event())).result.status).toBe('SUCCEEDED');

    const local = localRuntime('sandbox', home, {});
    const { result } = await prepareAndRun(nightlySweep, local, '{"trigger": "manual"}');
    expect(result.status).toBe('SUCCEEDED');
    const night = result.output as SweepOutput;
    const report = JSON.stringify(night);
    expect(report).not.toContain(nodeName);
    expect(report).not.toContain('gpu-node-01');
    // The fleet's Nodes only: gpu-node-12 and gpu-node-13 (224 vCPU each) and cpu-node-04 (64).
    expect(night.inventory.clusters).toEqual([expect.objectContaining({ name: 'gpu-hybrid-cluster', nodes: 3 })]);
  });
});

describe('offboard-node: input and nodes it refuses', () => {
  it('rejects a bad input file with exit code 2, listing every problem, and starts nothing', async () => {
    const bad = join(home, 'bad.json');
    writeFileSync(bad, JSON.stringify({ node: 'GPU_01', force: 'yes', drainTimeoutSeconds: 5 }));
    const t = cliIo();
    expect(await main(['run', 'offboard-node', '--input', bad], t.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(t.stderr()).toContain("node: 'GPU_01' is not a node name");
    expect(t.stderr()).toContain('force: force must be true or false');
    expect(t.stderr()).toContain('drainTimeoutSeconds: drainTimeoutSeconds must be at least 60');
  });

  it('refuses a node another run holds (exit 2), naming the run', async () => {
    await joinGpuNode01();
    const local = localRuntime('sandbox', home, {});
    await local.estate?.answer('ssm', 'PutParameter', {
      Name: LOCK,
      Type: 'String',
      Value: JSON.stringify({ requestId: 'up-0001', expiresAt: '2999-01-01T00:00:00.000Z', workflow: 'upgrade' }),
    });
    const t = cliIo();
    expect(await main(['run', 'offboard-node', '--input', EVENT], t.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(t.stderr()).toContain('The upgrade up-0001 holds gpu-node-01');
  });
});
