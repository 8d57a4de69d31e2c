import { type MetricPoint, point } from '../metrics';
import type { ActionType } from './plan';
import type { NetworkReport } from './report';

/** What a reconcile action changes, as the ReconcileDrift and ReconcileActions metrics name it. */
export const DRIFT_KINDS = ['resolver-rule', 'resolver-rule-association', 'efs-mount-target', 'nfs-rule'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** Each action type as the kind of thing it changes and how: 4 kinds by 3 actions, a bounded set. */
export const ACTION_METRIC: Record<ActionType, { kind: DriftKind; action: 'create' | 'update' | 'delete' }> = {
  'create-rule': { kind: 'resolver-rule', action: 'create' },
  'update-rule': { kind: 'resolver-rule', action: 'update' },
  'delete-rule': { kind: 'resolver-rule', action: 'delete' },
  'associate-rule': { kind: 'resolver-rule-association', action: 'create' },
  'disassociate-rule': { kind: 'resolver-rule-association', action: 'delete' },
  'create-mount-target': { kind: 'efs-mount-target', action: 'create' },
  'authorize-nfs': { kind: 'nfs-rule', action: 'create' },
  'revoke-nfs': { kind: 'nfs-rule', action: 'delete' },
};

/**
 * What ReportNetwork emits for a run that reached it: `ReconcileDrift` per kind, zero included
 * (a run that found none says so, and an alarm on drift sees data rather than a gap), and
 * `ReconcileActions` per kind and action this run applied (none in plan mode).
 */
export function reconcileFinished(report: Pick<NetworkReport, 'changes'>): MetricPoint[] {
  const drift = new Map<DriftKind, number>(DRIFT_KINDS.map((k) => [k, 0]));
  const applied = new Map<string, { kind: DriftKind; action: string; count: number }>();
  for (const [type, counts] of Object.entries(report.changes) as Array<
    [ActionType, { found: number; applied: number }]
  >) {
    const { kind, action } = ACTION_METRIC[type];
    drift.set(kind, (drift.get(kind) ?? 0) + counts.found);
    if (counts.applied === 0) continue;
    const key = `${kind} ${action}`;
    const sum = applied.get(key) ?? { kind, action, count: 0 };
    sum.count += counts.applied;
    applied.set(key, sum);
  }
  return [
    ...[...drift].map(([kind, count]) => point('ReconcileDrift', count, { Kind: kind })),
    ...[...applied.values()].map((a) => point('ReconcileActions', a.count, { Kind: a.kind, Action: a.action })),
  ];
}
