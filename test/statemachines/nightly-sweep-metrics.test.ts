import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import { nightlySweep, type SweepOutput } from '#cli/workflows/nightly-sweep';
import type { SandboxEstate } from '#lib/sandbox/estate';
import { CHECKS, SEVERITIES } from '#lib/sweep/findings';
import { filed, valuesOf } from '#test/helpers/emf';
import { freezeTimeAt } from '../helpers/frozen-time';

/**
 * The EMF the real nightly-sweep workflow emits on the sandbox estate: findings by check and
 * severity equal to the night's report, the cost forecast against the stage's budget as SweepCost
 * found them, and hybrid Nodes by state as the inventory counted them.
 */

// Mid-month, so Cost Explorer has a month to date and a forecast (see nightly-sweep.test.ts).
freezeTimeAt(new Date('2026-11-16T18:00:00Z'));

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-sweep-metrics-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function sweep(arrange?: (estate: SandboxEstate) => void) {
  const local = localRuntime('sandbox', home, {});
  arrange?.(local.estate as SandboxEstate);
  const { result } = await prepareAndRun(nightlySweep, local, JSON.stringify({ trigger: 'manual' }));
  return { result, night: result.output as SweepOutput, metrics: filed(result.metrics ?? []) };
}

/** What SweepCost returned, from the execution history (the output carries no cost summary). */
function costSummary(history: Array<{ type: string; state: string; data?: unknown }>) {
  const exited = history.find((h) => h.type === 'StateExited' && h.state === 'SweepCost');
  // Its ResultSelector makes it the cost check's outcome: { check, parts: [the part] }.
  const part = (exited?.data as { parts: Array<{ summary: { forecastUsd: number | null; budgetUsd: number | null } }> })
    .parts[0];
  return part?.summary ?? { forecastUsd: null, budgetUsd: null };
}

describe('metrics a sandbox nightly sweep emits', () => {
  it('critical findings: SweepFindings per check and severity equal the report, zero included', async () => {
    const { result, night, metrics } = await sweep();

    expect(result.status).toBe('SUCCEEDED');
    expect(metrics.every((m) => m.namespace === 'EksHybridOps' && m.dimensions.service === 'sandbox')).toBe(true);
    const findings = metrics.filter((m) => m.name === 'SweepFindings');
    expect(findings.every((m) => m.unit === 'Count')).toBe(true);
    // Every check ran: every pair is there, counted as the report counts it.
    const expected = CHECKS.flatMap((check) =>
      SEVERITIES.map((severity) => ({
        value: night.findings.filter((f) => f.check === check && f.severity === severity).length,
        Check: check,
        Severity: severity,
      })),
    );
    expect(valuesOf(metrics, 'SweepFindings')).toEqual(expected);
    expect(night.findings.length).toBe(night.findingsTotal); // all of them listed, so the comparison is whole
    expect(findings.reduce((sum, m) => sum + Number(m.value), 0)).toBe(night.findingsTotal);
    const critical = valuesOf(metrics, 'SweepFindings').filter((m) => m.Severity === 'critical');
    expect(critical.reduce((sum, m) => sum + Number(m.value), 0)).toBeGreaterThan(0);
    expect(JSON.stringify(result.metrics)).not.toMatch(/mi-[0-9a-f]{8}|sweepId|\d{8}T\d{6}Z/);
  });

  it('the cost forecast and the budget as SweepCost found them, and the forecast as a percentage of it', async () => {
    const { result, night, metrics } = await sweep();

    const { forecastUsd, budgetUsd } = costSummary(result.history);
    expect(typeof forecastUsd).toBe('number');
    expect(budgetUsd).toBe(42000); // config/sandbox.yaml sweep.monthlyBudgetUsd
    const cost = metrics.filter((m) => m.name.startsWith('Cost'));
    expect(cost.map((m) => [m.name, m.unit, m.value, m.dimensions])).toEqual([
      ['CostForecast', 'None', forecastUsd, { service: 'sandbox' }],
      ['CostBudget', 'None', 42000, { service: 'sandbox' }],
      ['CostForecastRatio', 'Percent', Math.round((Number(forecastUsd) / 42000) * 1000) / 10, { service: 'sandbox' }],
    ]);
    // The budget finding states the same share, rounded to a whole percent.
    const budget = night.findings.find((f) => f.id.startsWith('cost:budget:'));
    expect(budget?.message).toContain(`${Math.round(Number(cost[2]?.value))}% of the monthly budget`);
  });

  it('HybridNodes by state as the inventory counted them, a cordoned Ready Node as Cordoned', async () => {
    const { night, metrics } = await sweep((estate) => {
      const node = Object.values(estate.state.nodes).find((n) => n.ready.status === 'True');
      if (node) node.unschedulable = true;
    });

    const clusters = night.inventory.clusters;
    const total = (f: (c: (typeof clusters)[number]) => number) => clusters.reduce((s, c) => s + f(c), 0);
    expect(metrics.filter((m) => m.name === 'HybridNodes').every((m) => m.unit === 'Count')).toBe(true);
    expect(valuesOf(metrics, 'HybridNodes')).toEqual([
      { value: total((c) => c.nodes) - total((c) => c.notReady) - 1, State: 'Ready' },
      { value: total((c) => c.notReady), State: 'NotReady' },
      { value: 1, State: 'Cordoned' },
    ]);
    expect(total((c) => c.cordoned)).toBe(1);
    expect(total((c) => c.notReady)).toBeGreaterThan(0);
  });
});
