import { emfDocuments } from '#lib/metrics';
import { reconcileFinished } from '#lib/network/metrics';
import { type Action, ACTION_TYPES, emptyPlan } from '#lib/network/plan';
import { networkReport } from '#lib/network/report';

const action = (type: Action['type'], outcome?: Action['outcome']): Action => ({
  type,
  resource: `${type}-resource`,
  cluster: 'gpu-hybrid-cluster',
  detail: 'differs',
  params: {},
  ...(outcome ? { outcome } : {}),
});

const report = (mode: 'plan' | 'apply', actions: Action[]) =>
  networkReport({ mode, trigger: 'schedule', stage: 'test', plan: { ...emptyPlan(), actions }, actions });

const byName = (points: ReturnType<typeof reconcileFinished>, name: string) =>
  points.filter((p) => p.name === name).map((p) => ({ value: p.value, ...p.dimensions }));

describe('reconcile metrics', () => {
  it('counts drift per kind, zero for kinds with none, and applies nothing in plan mode', () => {
    const points = reconcileFinished(
      report('plan', [action('create-rule'), action('update-rule'), action('associate-rule'), action('revoke-nfs')]),
    );

    expect(byName(points, 'ReconcileDrift')).toEqual([
      { value: 2, Kind: 'resolver-rule' },
      { value: 1, Kind: 'resolver-rule-association' },
      { value: 0, Kind: 'efs-mount-target' },
      { value: 1, Kind: 'nfs-rule' },
    ]);
    expect(byName(points, 'ReconcileActions')).toEqual([]);
  });

  it('counts the actions this run applied by kind and action: not already-done, failed or waiting ones', () => {
    const points = reconcileFinished(
      report('apply', [
        action('create-rule', 'done'),
        action('associate-rule', 'done'),
        action('associate-rule', 'already-done'),
        action('create-mount-target', 'deferred: still creating'),
        action('authorize-nfs', 'done'),
        action('revoke-nfs', 'done'),
        action('revoke-nfs', 'failed: AccessDenied'),
      ]),
    );

    expect(byName(points, 'ReconcileDrift')).toEqual([
      { value: 1, Kind: 'resolver-rule' },
      { value: 2, Kind: 'resolver-rule-association' },
      { value: 1, Kind: 'efs-mount-target' },
      { value: 3, Kind: 'nfs-rule' },
    ]);
    expect(byName(points, 'ReconcileActions')).toEqual([
      { value: 1, Kind: 'resolver-rule', Action: 'create' },
      { value: 1, Kind: 'resolver-rule-association', Action: 'create' },
      { value: 1, Kind: 'nfs-rule', Action: 'create' },
      { value: 1, Kind: 'nfs-rule', Action: 'delete' },
    ]);
  });

  it('is bounded: every action type maps to one of 4 kinds and 3 actions, and each serializes as EMF', () => {
    const points = reconcileFinished(
      report(
        'apply',
        ACTION_TYPES.map((t) => action(t, 'done')),
      ),
    );
    const dims = new Set(points.map((p) => JSON.stringify(p.dimensions)));

    expect(dims.size).toBe(4 + 8);
    expect(emfDocuments(points, 'test')).toHaveLength(dims.size);
  });
});
