import { type MetricPoint, point } from '../metrics';
import { CHECKS, SEVERITIES } from './findings';
import type { NightReport } from './merge-sweep';
import type { InventorySummary } from './sweep-inventory';

/**
 * What a nightly sweep emits. Zeros are explicit where a zero is known: a check that ran whole
 * reports every severity, zero included, so an alarm on critical findings sees data every night
 * and a graph shows a clean night as 0 rather than a gap; a check that failed (or ran only in
 * part) reports only what it found, since its zero would claim a clean night it did not see.
 */
export function sweepFindingsMetrics(report: Pick<NightReport, 'findingCounts' | 'failedChecks'>): MetricPoint[] {
  return CHECKS.flatMap((check) =>
    SEVERITIES.flatMap((severity) => {
      const count = report.findingCounts[check][severity];
      if (count === 0 && report.failedChecks.includes(check)) return [];
      return [point('SweepFindings', count, { Check: check, Severity: severity })];
    }),
  );
}

/** The node states HybridNodes counts; each Node is in exactly one (NotReady before Cordoned). */
export const NODE_STATES = ['Ready', 'NotReady', 'Cordoned'] as const;

/** Hybrid Nodes by state over the clusters the inventory could read, each state every night. */
export function hybridNodesMetrics(inventory: Pick<InventorySummary, 'clusters'>): MetricPoint[] {
  const sum = (f: (c: InventorySummary['clusters'][number]) => number) =>
    inventory.clusters.reduce((total, c) => total + f(c), 0);
  const counts = {
    Ready: sum((c) => c.nodes - c.notReady - c.cordoned),
    NotReady: sum((c) => c.notReady),
    Cordoned: sum((c) => c.cordoned),
  };
  return NODE_STATES.map((state) => point('HybridNodes', counts[state], { State: state }));
}

/**
 * The month-end forecast (when Cost Explorer gave one), the stage's budget (when it declares one),
 * and the forecast as a percentage of the budget (when both are known), from SweepCost's summary.
 */
export function costMetrics(summary: Record<string, unknown> | undefined): MetricPoint[] {
  const usd = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const forecast = usd(summary?.forecastUsd);
  const budget = usd(summary?.budgetUsd);
  return [
    ...(forecast !== undefined ? [point('CostForecast', forecast)] : []),
    ...(budget !== undefined ? [point('CostBudget', budget)] : []),
    ...(forecast !== undefined && budget !== undefined && budget > 0
      ? [point('CostForecastRatio', Math.round((forecast / budget) * 1000) / 10)]
      : []),
  ];
}
