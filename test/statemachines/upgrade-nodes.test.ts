import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { prepareAndRun, runPrepared } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import { main } from '#cli/main';
import { upgradeNodes, upgradeReportOf } from '#cli/workflows/upgrade-nodes';
import { openSandbox } from '#lib/sandbox/index';
import { DEFAULT_SEED, type SandboxEstate } from '#lib/sandbox/estate';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import type { NodeLine, UpgradeReport } from '#lib/upgrades/report';
import type { UpgradeInput } from '#lib/upgrades/state';
import { upgradeKeys } from '#lib/upgrades/state';

/**
 * The real statemachines/upgrade-nodes.asl.json on the sandbox estate, whose fleet lags the
 * cluster's 1.33: gpu-node-12 at 1.31 (ml pods behind a PodDisruptionBudget), cpu-node-04 at
 * 1.32, gpu-node-13 NotReady at 1.29 (four minors behind). Which states ran, what each node
 * ended as, what is left on the cluster, and the one summary message.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'upgrade-nodes.json');
const GPU_02 = 'mi-0a2b4c6d8e0f12342';
const GPU_03 = 'mi-0a2b4c6d8e0f12343';
const CPU_04 = 'mi-0a2b4c6d8e0f12344';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-upgrade-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const body = (change: Record<string, unknown> = {}) => ({ ...JSON.parse(readFileSync(EVENT, 'utf8')), ...change });

/** Reseeds the estate under `home` from the default seed, changed by `edit`. */
function seedWith(edit: (seed: Record<string, unknown>) => void): void {
  const seed = parse(readFileSync(DEFAULT_SEED, 'utf8')) as Record<string, unknown>;
  edit(seed);
  const file = join(home, 'seed.yaml');
  writeFileSync(file, stringify(seed));
  openSandbox(home, { reset: true, seedFile: file });
}

async function upgrade(change: Record<string, unknown> = {}, scenario = 'joins') {
  const local = localRuntime('sandbox', home, {}, { scenario });
  const estate = local.estate as SandboxEstate;
  const sent = estate.outbox.length;
  const { input, result } = await prepareAndRun(upgradeNodes, local, JSON.stringify(body(change)));
  const report = upgradeReportOf(result) as UpgradeReport;
  const node = (nodeName: string) => report.nodes.find((n) => n.nodeName === nodeName) as NodeLine;
  return { input: input as UpgradeInput, result, report, node, estate, alerts: estate.outbox.slice(sent) };
}

const kube = (estate: SandboxEstate, name: string) => estate.state.nodes[name];
const locks = (estate: SandboxEstate) => Object.keys(estate.state.parameters).filter((p) => p.includes('/locks/'));
/** The run's own states, outside the nodes' iterations. */
const TRUNK = new Set([
  'CheckInput',
  'PlanUpgrade',
  'HasWaves',
  'StartWaves',
  'SelectWave',
  'UpgradeWave',
  'RecordUpgradeWave',
  'NextWave',
  'ReportUpgrade',
  'NotifyUpgrade',
  'UpgradeEnded',
  'UpgradeSucceeded',
  'UpgradeFailed',
]);
const trunk = (visited: string[]) => visited.filter((s) => TRUNK.has(s));
const WAVE = ['SelectWave', 'UpgradeWave', 'RecordUpgradeWave', 'NextWave'];

describe('upgrade-nodes on the sandbox estate', () => {
  it('rolls the fleet one node at a time, wave after wave, and skips the one out of skew', async () => {
    const { result, report, node, estate, alerts } = await upgrade();

    expect(result.status).toBe('SUCCEEDED');
    expect(trunk(result.visited)).toEqual([
      'CheckInput',
      'PlanUpgrade',
      'HasWaves',
      'StartWaves',
      ...WAVE,
      ...WAVE,
      'ReportUpgrade',
      'NotifyUpgrade',
      'UpgradeEnded',
      'UpgradeSucceeded',
    ]);
    expect(node(GPU_02)).toMatchObject({ name: 'gpu-node-12', state: 'upgraded', wave: 1, cordoned: false });
    expect(node(CPU_04)).toMatchObject({ name: 'cpu-node-04', state: 'upgraded', wave: 0, cordoned: false });
    expect(node(GPU_03)).toMatchObject({ state: 'skipped', reason: 'too-old' });
    expect(report.counts).toEqual({ upgraded: 2, skipped: 1, failed: 0, untouched: 0 });
    for (const name of [GPU_02, CPU_04]) {
      expect(kube(estate, name)?.kubeletVersion).toMatch(/^v1\.33\./);
      expect(kube(estate, name)?.ready.status).toBe('True');
      expect(kube(estate, name)?.unschedulable).toBeFalsy();
    }
    expect(kube(estate, GPU_03)?.kubeletVersion).toMatch(/^v1\.29\./);
    // Each node drained (gpu-node-12's ml pods one at a time, behind their budget), then upgraded.
    const inside = result.visited.filter((s) => !TRUNK.has(s));
    expect(inside.filter((s) => s === 'RunNodeCommand')).toHaveLength(2);
    expect(inside.filter((s) => s === 'UncordonNode')).toHaveLength(2);
    expect(inside).not.toContain('FailNodeUpgrade');
    expect(locks(estate)).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe('[WARNING] gpu-hybrid-cluster: 2 node(s) upgraded to 1.33; 1 skipped');
    expect(alerts[0]?.attributes).toEqual({ severity: 'warning', cluster: 'gpu-hybrid-cluster', check: 'upgrade' });
    expect(alerts[0]?.message).toContain('[too-old]');
  });

  it('a second rollout finds nothing to do, touches nothing, and says so', async () => {
    await upgrade();
    const { result, report, estate, alerts } = await upgrade();

    expect(result.status).toBe('SUCCEEDED');
    expect(trunk(result.visited)).not.toContain('UpgradeWave');
    expect(report.outcome).toBe('nothing-to-do');
    // A node skipped (gpu-node-13, out of the skew) is a warning, subject and attribute alike.
    expect(alerts[0]?.subject).toBe('[WARNING] gpu-hybrid-cluster: no node to upgrade to 1.33; 1 skipped');
    expect(alerts[0]?.attributes.severity).toBe('warning');
    expect(alerts[0]?.message).toContain('No node needed upgrading (2 already at 1.33 or newer).');
    expect(Object.values(estate.state.nodes).some((n) => n.unschedulable)).toBe(false);
  });

  it('maxUnavailable 2: both nodes in one wave', async () => {
    const { result, node } = await upgrade({ maxUnavailable: 2 });

    expect(result.status).toBe('SUCCEEDED');
    expect(trunk(result.visited).filter((s) => s === 'UpgradeWave')).toHaveLength(1);
    expect(node(GPU_02)).toMatchObject({ state: 'upgraded', wave: 0 });
    expect(node(CPU_04)).toMatchObject({ state: 'upgraded', wave: 0 });
  });

  it('upgrade-fails: the rollout stops at the first node, left cordoned with the output tail in the alert', async () => {
    const { result, report, node, estate, alerts } = await upgrade({}, 'upgrade-fails');

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('UpgradeStoppedError');
    expect(trunk(result.visited)).toEqual([
      'CheckInput',
      'PlanUpgrade',
      'HasWaves',
      'StartWaves',
      ...WAVE,
      'ReportUpgrade',
      'NotifyUpgrade',
      'UpgradeEnded',
      'UpgradeFailed',
    ]);
    // cpu-node-04 goes first (name order); gpu-node-12 is never touched.
    expect(node(CPU_04)).toMatchObject({ state: 'failed', step: 'CheckNodeCommand', cordoned: true });
    expect(node(GPU_02)).toMatchObject({ state: 'untouched' });
    expect(report.counts).toMatchObject({ upgraded: 0, failed: 1, untouched: 1 });
    expect(kube(estate, CPU_04)?.unschedulable).toBe(true);
    expect(kube(estate, CPU_04)?.kubeletVersion).toMatch(/^v1\.32\./);
    expect(kube(estate, GPU_02)?.unschedulable).toBeFalsy();
    expect(kube(estate, GPU_02)?.kubeletVersion).toMatch(/^v1\.31\./);
    expect(locks(estate)).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe(
      '[CRITICAL] gpu-hybrid-cluster upgrade to 1.33 stopped: cpu-node-04 failed at CheckNodeCommand',
    );
    // The command's output tail, as nodeadm wrote it.
    expect(alerts[0]?.message).toContain('"msg":"Command failed"');
    expect(alerts[0]?.message).toContain(`Left cordoned: ${CPU_04}`);
    expect(alerts[0]?.message).toContain('Untouched (1):\n- gpu-node-12');
  });

  it('a blocked drain uncordons the node, names the pods, and stops the rollout', async () => {
    const { result, node, estate, alerts } = await upgrade(
      { nodes: ['gpu-node-12'], drainTimeoutSeconds: 120 },
      'drain-blocked',
    );

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('UpgradeStoppedError');
    expect(node(GPU_02)).toMatchObject({ state: 'failed', step: 'DrainNode', cordoned: false });
    expect(node(GPU_02).detail).toContain('DrainBlockedError');
    expect(result.visited).toContain('UncordonNode');
    expect(result.visited).not.toContain('RunNodeCommand');
    expect(kube(estate, GPU_02)?.unschedulable).toBeFalsy();
    expect(kube(estate, GPU_02)?.kubeletVersion).toMatch(/^v1\.31\./);
    expect(alerts[0]?.message).toContain('llm-inference');
    expect(locks(estate)).toEqual([]);
  });

  it('a blocked drain with force deletes the pods past their budget and upgrades', async () => {
    const { result, node, estate } = await upgrade(
      { nodes: ['gpu-node-12'], drainTimeoutSeconds: 120, force: true },
      'drain-blocked',
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(node(GPU_02)).toMatchObject({ state: 'upgraded' });
    expect(kube(estate, GPU_02)?.kubeletVersion).toMatch(/^v1\.33\./);
  });

  it('host-offline: the node whose agent is ConnectionLost is skipped, the others upgraded', async () => {
    const { result, node } = await upgrade({}, 'host-offline');

    expect(result.status).toBe('SUCCEEDED');
    expect(node(GPU_02)).toMatchObject({ state: 'skipped' });
    expect(node(CPU_04)).toMatchObject({ state: 'upgraded' });
  });

  it('a NotReady node within the skew is skipped, not upgraded', async () => {
    seedWith((seed) => {
      const fleet = seed.fleet as Array<Record<string, unknown>>;
      const cpu = fleet.find((f) => f.name === 'cpu-node-04');
      if (cpu) cpu.notReadyForHours = 2;
    });
    const { result, node, estate } = await upgrade();

    expect(result.status).toBe('SUCCEEDED');
    expect(node(CPU_04)).toMatchObject({ state: 'skipped', reason: 'not-ready' });
    expect(kube(estate, CPU_04)?.unschedulable).toBeFalsy();
    expect(node(GPU_02)).toMatchObject({ state: 'upgraded' });
  });

  it('a node out of the skew, named, is skipped with why; nothing else is touched', async () => {
    const { result, report, alerts } = await upgrade({ nodes: ['gpu-node-13'] });

    expect(result.status).toBe('SUCCEEDED');
    expect(trunk(result.visited)).toEqual([
      'CheckInput',
      'PlanUpgrade',
      'HasWaves',
      'ReportUpgrade',
      'NotifyUpgrade',
      'UpgradeEnded',
      'UpgradeSucceeded',
    ]);
    expect(report.outcome).toBe('nothing-to-do');
    expect(report.nodes).toEqual([
      expect.objectContaining({ name: 'gpu-node-13', state: 'skipped', reason: 'too-old' }),
    ]);
    expect(alerts[0]?.message).toContain('more than 3 minor versions behind the 1.33 control plane');
  });

  it('refuses a target newer than the control plane before it starts anything', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const file = join(home, 'too-new.json');
    writeFileSync(file, JSON.stringify(body({ kubernetesVersion: '1.34' })));
    const code = await main(
      ['run', 'upgrade-nodes', '--input', file],
      { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
      { HYBRIDOPS_HOME: home },
    );
    expect(code).toBe(2);
    expect(err.join('')).toContain('kubernetesVersion: 1.34 is newer than the 1.33 control plane');
    expect(err.join('')).toContain('upgrade the control plane first');
  });

  it('prints each node and what was done to it; --json carries them even when the run stopped', async () => {
    const out: string[] = [];
    const code = await main(
      ['run', 'upgrade-nodes', '--input', EVENT, '--scenario', 'upgrade-fails', '--json'],
      { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => undefined } },
      { HYBRIDOPS_HOME: home },
    );
    expect(code).toBe(1);
    const printed = JSON.parse(out.join('')) as { status: string; output: UpgradeReport };
    expect(printed.status).toBe('FAILED');
    expect(printed.output.nodes.map((n) => [n.name, n.state])).toEqual([
      ['cpu-node-04', 'failed'],
      ['gpu-node-12', 'untouched'],
      ['gpu-node-13', 'skipped'],
    ]);
  });

  it('keeps the plan, each wave and the report in the run store for GET /upgrades/{id}', async () => {
    const { input, estate } = await upgrade();
    const objects = estate.state.objects[sandboxStoreBucket(estate.seed.account)] ?? {};
    const keys = upgradeKeys(input.upgradeId);
    expect(Object.keys(objects)).toEqual(expect.arrayContaining([keys.plan, keys.wave(0), keys.wave(1), keys.report]));
  });

  it('an execution started without the input POST /upgrades builds stops before it touches anything', async () => {
    const local = localRuntime('sandbox', home, {});
    const result = await runPrepared(upgradeNodes, local, { cluster: 'gpu-hybrid-cluster' });
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidExecutionInputError');
    expect(result.visited).toEqual(['CheckInput', 'InputRejected']);
  });
});
