import { ManualClock } from '#lib/clock';
import { MAX_NODES_PER_UPGRADE, MAX_UNAVAILABLE, STATE_BYTES_LIMIT } from '#lib/upgrades/limits';
import { reportUpgrade } from '#lib/upgrades/report';
import type { NodeOutcome, PlannedNode, UpgradePlan, UpgradeSpec } from '#lib/upgrades/state';
import { upgradeKeys } from '#lib/upgrades/state';
import { recordUpgradeWave } from '#lib/upgrades/waves';
import { memoryStore } from '#test/helpers/memory-store';

const UPGRADE_ID = 'upgrade-1-33-0123456789ab';
const CLUSTER = 'gpu-hybrid-cluster';
const keys = upgradeKeys(UPGRADE_ID);
const request: UpgradeSpec = {
  cluster: CLUSTER,
  kubernetesVersion: '1.33',
  maxUnavailable: 1,
  force: false,
  drainTimeoutSeconds: 600,
};

const planned = (n: number, wave = n - 1): PlannedNode => ({
  nodeName: `mi-0a2b4c6d8e0f1234${n}`,
  name: `gpu-node-0${n}`,
  instanceId: `mi-0a2b4c6d8e0f1234${n}`,
  lockParameter: `/eks-hybrid-ops/test/locks/${CLUSTER}/gpu-node-0${n}`,
  from: 'v1.31.4-eks-1',
  wave,
});
const plan = (waves: PlannedNode[][]): UpgradePlan => ({
  cluster: CLUSTER,
  clusterArn: 'arn:aws:eks:ap-northeast-2:111122223333:cluster/gpu-hybrid-cluster',
  controlPlaneVersion: '1.33',
  target: '1.33',
  access: { name: CLUSTER, region: 'ap-northeast-2', endpoint: 'https://x', certificateAuthority: '' },
  plannedAt: '2026-11-22T00:00:00.000Z',
  key: keys.plan,
  waves,
  waveCount: waves.length,
  toUpgrade: waves.flat().length,
  skipped: [
    {
      name: 'gpu-node-09',
      nodeName: 'mi-0a2b4c6d8e0f12349',
      reason: 'offline',
      detail: 'its SSM agent is ConnectionLost',
    },
  ],
  skippedCount: 1,
  atTarget: 0,
});
const upgraded = (n: PlannedNode): NodeOutcome => ({
  nodeName: n.nodeName,
  name: n.name,
  wave: n.wave,
  outcome: 'upgraded',
  from: n.from,
  to: 'v1.33.1-eks-1',
  detail: 'Upgraded from v1.31.4-eks-1 to v1.33.1-eks-1 in 6 min.',
  cordoned: false,
});
const failedAtCommand = (n: PlannedNode): NodeOutcome => ({
  nodeName: n.nodeName,
  name: n.name,
  wave: n.wave,
  outcome: 'failed',
  from: n.from,
  step: 'CheckNodeCommand',
  error: 'NodeCommandFailedError',
  detail:
    'CheckNodeCommand failed with NodeCommandFailedError: nodeadm upgrade failed. Output tail:\n{"level":"fatal","msg":"Command failed","error":"validating ssm-setup-cli signature"} It is left cordoned: once it is fixed and Ready at 1.33, run kubectl uncordon mi-0a2b4c6d8e0f12342.',
  cordoned: true,
});

const report = (store: ReturnType<typeof memoryStore>['store'], extra: Partial<Parameters<typeof reportUpgrade>[1]>) =>
  reportUpgrade(
    { store, clock: new ManualClock('2026-11-22T01:00:00Z'), bucket: 'run-store' },
    { upgradeId: UPGRADE_ID, requester: 'alice', request, ...extra },
  );

describe('recordUpgradeWave', () => {
  it('writes the wave, and goes on only when no node failed and a wave is left', async () => {
    const { store, read } = memoryStore();
    const [a, b] = [planned(1), planned(2)];
    expect(
      await recordUpgradeWave(
        { store },
        { upgradeId: UPGRADE_ID, waveCount: 2, wave: { index: 0, results: [upgraded(a)] } },
      ),
    ).toEqual({
      index: 1,
      goOn: true,
      last: { upgraded: 1, skipped: 0, failed: 0 },
    });
    expect(read(keys.wave(0))).toEqual([upgraded(a)]);
    const last = await recordUpgradeWave(
      { store },
      { upgradeId: UPGRADE_ID, waveCount: 2, wave: { index: 1, results: [upgraded(b)] } },
    );
    expect(last.goOn).toBe(false);
    const failing = await recordUpgradeWave(
      { store },
      { upgradeId: UPGRADE_ID, waveCount: 3, wave: { index: 0, results: [failedAtCommand(a), upgraded(b)] } },
    );
    expect(failing).toEqual({ index: 1, goOn: false, last: { upgraded: 1, skipped: 0, failed: 1 } });
  });
});

describe('reportUpgrade', () => {
  it('every node upgraded: one OK message (a warning when some were skipped), listing each', async () => {
    const [a, b] = [planned(1), planned(2)];
    const p = plan([[a], [b]]);
    const { store, read } = memoryStore({ [p.key]: p, [keys.wave(0)]: [upgraded(a)], [keys.wave(1)]: [upgraded(b)] });

    const result = await report(store, { plan: p });

    expect(result).toMatchObject({ outcome: 'upgraded', counts: { upgraded: 2, skipped: 1, failed: 0, untouched: 0 } });
    expect(result.error).toBeUndefined();
    expect(result.notification).toMatchObject({
      subject: '[WARNING] gpu-hybrid-cluster: 2 node(s) upgraded to 1.33; 1 skipped',
      severity: 'warning',
      check: 'upgrade',
    });
    expect(result.notification.message).toContain('Upgraded (2):\n- gpu-node-01 (mi-0a2b4c6d8e0f12341): Upgraded from');
    expect(result.notification.message).toContain('Skipped (1):\n- gpu-node-09 (mi-0a2b4c6d8e0f12349) [offline]');
    expect(result.notification.message).toContain(
      'Report: s3://run-store/runs/upgrade-upgrade-1-33-0123456789ab/report.json',
    );
    expect(read<{ outcome: string }>(keys.report).outcome).toBe('upgraded');
  });

  it('a failed node stops the rollout: UpgradeStoppedError, the output tail, what is cordoned, what was never touched', async () => {
    const [a, b, c] = [planned(1), planned(2), planned(3)];
    const p = plan([[a], [b], [c]]);
    const { store } = memoryStore({ [p.key]: p, [keys.wave(0)]: [upgraded(a)], [keys.wave(1)]: [failedAtCommand(b)] });

    const result = await report(store, { plan: p, wave: undefined });

    expect(result).toMatchObject({
      outcome: 'stopped',
      error: 'UpgradeStoppedError',
      counts: { upgraded: 1, failed: 1, untouched: 1, skipped: 1 },
    });
    expect(result.summary).toBe(
      `Upgrade ${UPGRADE_ID} stopped: gpu-node-02 (CheckNodeCommand) failed; 1 upgraded, 1 untouched.`,
    );
    const { subject, message, severity } = result.notification;
    expect(subject).toBe(
      '[CRITICAL] gpu-hybrid-cluster upgrade to 1.33 stopped: gpu-node-02 failed at CheckNodeCommand',
    );
    expect(severity).toBe('critical');
    expect(message).toContain('{"level":"fatal","msg":"Command failed","error":"validating ssm-setup-cli signature"}');
    expect(message).toContain(
      'Untouched (1):\n- gpu-node-03 (mi-0a2b4c6d8e0f12343): the rollout stopped before its wave',
    );
    expect(message).toContain('Left cordoned: mi-0a2b4c6d8e0f12342. Once each is fixed: kubectl uncordon <node>.');
  });

  it('a run that failed in a wave it could not record reports that wave from the state, or as unknown', async () => {
    const [a, b] = [planned(1), planned(2)];
    const p = plan([[a], [b]]);
    let { store } = memoryStore({ [p.key]: p });
    const failure = { Error: 'StoreError', Cause: JSON.stringify({ errorMessage: 'S3 is down. Fix: wait.' }) };

    let result = await report(store, { plan: p, wave: { index: 0, results: [upgraded(a)] }, failure });
    expect(result).toMatchObject({ outcome: 'failed', error: 'StoreError', counts: { upgraded: 1, untouched: 1 } });
    expect(result.notification.subject).toBe(
      '[CRITICAL] gpu-hybrid-cluster upgrade to 1.33 failed: StoreError after 1 upgraded',
    );
    expect(result.notification.message).toContain('The run failed: StoreError: S3 is down.\nFix: wait.');

    ({ store } = memoryStore({ [p.key]: p }));
    result = await report(store, { plan: p, wave: { index: 0 }, failure });
    expect(result.nodes.find((n) => n.name === 'gpu-node-01')).toMatchObject({ state: 'unknown' });
    expect(result.notification.message).toContain('before its outcome was recorded');
  });

  it('a run that failed before it planned touched nothing, and says so', async () => {
    const { store } = memoryStore();
    const failure = {
      Error: 'KubernetesVersionSkewError',
      Cause: JSON.stringify({ errorMessage: 'Too new. Fix: upgrade.' }),
    };
    const result = await report(store, { failure });
    expect(result).toMatchObject({ outcome: 'failed', error: 'KubernetesVersionSkewError', nodes: [] });
    expect(result.notification.subject).toBe(
      '[CRITICAL] gpu-hybrid-cluster upgrade to 1.33 failed: KubernetesVersionSkewError',
    );
    expect(result.notification.message).toContain('Nothing was planned; no node was touched.');
  });

  it('nothing to do: an info message', async () => {
    const p = { ...plan([]), skipped: [], skippedCount: 0, atTarget: 3 };
    const { store } = memoryStore({ [p.key]: p });
    const result = await report(store, { plan: p });
    expect(result.outcome).toBe('nothing-to-do');
    expect(result.notification.subject).toBe('[INFO] gpu-hybrid-cluster: no node to upgrade to 1.33');
    expect(result.notification.message).toContain('No node needed upgrading (3 already at 1.33 or newer).');
  });

  it('keeps the state of the largest run well under 256 KiB: the plan, a wave of failed nodes, the report', async () => {
    // 18 nodes in waves of 10, 50 skipped nodes listed, and a first wave whose 10 nodes all failed
    // with a full output tail (20 lines of 200 characters) each: the largest state the run has.
    const nodes = Array.from({ length: MAX_NODES_PER_UPGRADE }, (_, i) => ({
      ...planned(1, Math.floor(i / MAX_UNAVAILABLE)),
      name: `gpu-node-${String(i).padStart(2, '0')}-${'x'.repeat(40)}`,
    }));
    const waves = [nodes.slice(0, MAX_UNAVAILABLE), nodes.slice(MAX_UNAVAILABLE)];
    const tail = Array.from({ length: 20 }, () => 'y'.repeat(200)).join('\n');
    const skipped = Array.from({ length: 50 }, (_, i) => ({
      name: `cpu-node-${i}-${'z'.repeat(40)}`,
      nodeName: `mi-0a2b4c6d8e0f${String(i).padStart(5, '0')}`,
      reason: 'offline' as const,
      detail: 'its SSM agent is ConnectionLost, so it cannot take a command; '.repeat(4),
    }));
    const p = {
      ...plan(waves),
      skipped,
      skippedCount: skipped.length,
      access: { ...plan([]).access, certificateAuthority: 'c'.repeat(2000) },
    };
    const results = (waves[0] ?? []).map((n) => ({
      ...failedAtCommand(n),
      detail: `${failedAtCommand(n).detail}\n${tail}`,
    }));
    const { store } = memoryStore({ [p.key]: p, [keys.wave(0)]: results });

    const result = await report(store, { plan: p });
    const state = { input: request, plan: p, wave: { index: 0, nodes: waves[0], results }, report: result };
    const bytes = Buffer.byteLength(JSON.stringify(state), 'utf8');

    expect(result.counts).toMatchObject({
      failed: MAX_UNAVAILABLE,
      untouched: MAX_NODES_PER_UPGRADE - MAX_UNAVAILABLE,
    });
    expect(result.notification.message).toContain(tail);
    // 158 KB: three fifths of the limit.
    expect(bytes).toBeLessThan(STATE_BYTES_LIMIT * 0.65);
  });
});
