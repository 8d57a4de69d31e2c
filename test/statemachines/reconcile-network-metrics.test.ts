import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import { reconcileNetwork } from '#cli/workflows/reconcile-network';
import { ACTION_METRIC, DRIFT_KINDS } from '#lib/network/metrics';
import type { NetworkReport } from '#lib/network/report';
import { filed, valuesOf } from '#test/helpers/emf';

/**
 * The EMF the real reconcile-network workflow emits on the sandbox estate, whose seed has drift:
 * ReconcileDrift per kind and ReconcileActions per kind and action, consistent with the run's report.
 */

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-net-metrics-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function reconcile(mode: 'plan' | 'apply') {
  const { result } = await prepareAndRun(reconcileNetwork, localRuntime('sandbox', home, {}), JSON.stringify({ mode }));
  expect(result.status).toBe('SUCCEEDED');
  return { report: result.output as NetworkReport, metrics: filed(result.metrics ?? []) };
}

/** What the report's actions say, counted the way the metrics count them. */
function expectedFrom(report: NetworkReport) {
  const drift = Object.fromEntries(DRIFT_KINDS.map((k) => [k, 0]));
  const applied: Record<string, number> = {};
  for (const a of report.actions) {
    const { kind, action } = ACTION_METRIC[a.type];
    drift[kind] = (drift[kind] ?? 0) + 1;
    if (a.outcome === 'done') applied[`${kind} ${action}`] = (applied[`${kind} ${action}`] ?? 0) + 1;
  }
  return { drift, applied };
}

describe('metrics a sandbox reconcile emits', () => {
  it('plan with drift: ReconcileDrift per kind as the report lists it, zero included, and no actions', async () => {
    const { report, metrics } = await reconcile('plan');

    expect(metrics.every((m) => m.namespace === 'EksHybridOps' && m.dimensions.service === 'sandbox')).toBe(true);
    expect(metrics.filter((m) => m.name === 'ReconcileDrift').every((m) => m.unit === 'Count')).toBe(true);
    expect(valuesOf(metrics, 'ReconcileDrift')).toEqual([
      { value: 1, Kind: 'resolver-rule' },
      { value: 1, Kind: 'resolver-rule-association' },
      { value: 1, Kind: 'efs-mount-target' },
      { value: 3, Kind: 'nfs-rule' },
    ]);
    const { drift } = expectedFrom(report);
    expect(Object.fromEntries(valuesOf(metrics, 'ReconcileDrift').map((m) => [m.Kind, m.value]))).toEqual(drift);
    expect(valuesOf(metrics, 'ReconcileActions')).toEqual([]);
    expect(new Set(metrics.map((m) => m.name))).toEqual(new Set(['ReconcileDrift']));
  });

  it('apply: ReconcileActions per kind and action as the report says each was done; then no drift', async () => {
    const { report, metrics } = await reconcile('apply');

    expect(metrics.filter((m) => m.name === 'ReconcileActions').every((m) => m.unit === 'Count')).toBe(true);
    expect(valuesOf(metrics, 'ReconcileActions')).toEqual([
      { value: 1, Kind: 'resolver-rule', Action: 'update' },
      { value: 1, Kind: 'resolver-rule-association', Action: 'create' },
      { value: 1, Kind: 'efs-mount-target', Action: 'create' },
      { value: 2, Kind: 'nfs-rule', Action: 'create' },
      { value: 1, Kind: 'nfs-rule', Action: 'delete' },
    ]);
    const { applied } = expectedFrom(report);
    expect(
      Object.fromEntries(valuesOf(metrics, 'ReconcileActions').map((m) => [`${m.Kind} ${m.Action}`, m.value])),
    ).toEqual(applied);

    const after = await reconcile('plan');
    expect(valuesOf(after.metrics, 'ReconcileDrift')).toEqual(DRIFT_KINDS.map((Kind) => ({ value: 0, Kind })));
  });
});
