import { emfDocuments, type MetricPoint } from '#lib/metrics';
import { countFindings } from '#lib/sweep/merge-sweep';
import { costMetrics, hybridNodesMetrics, sweepFindingsMetrics } from '#lib/sweep/metrics';

const values = (points: MetricPoint[]) => points.map((p) => ({ [p.name]: p.value, ...p.dimensions }));

describe('sweep metrics', () => {
  it('counts findings per check and severity, every pair of a check that ran, zero included', () => {
    const findingCounts = countFindings([
      { check: 'cost', severity: 'critical' },
      { check: 'compliance', severity: 'warning' },
      { check: 'compliance', severity: 'warning' },
    ]);

    const points = sweepFindingsMetrics({ findingCounts, failedChecks: [] });

    expect(points).toHaveLength(9);
    expect(values(points)).toEqual(
      expect.arrayContaining([
        { SweepFindings: 1, Check: 'cost', Severity: 'critical' },
        { SweepFindings: 0, Check: 'cost', Severity: 'warning' },
        { SweepFindings: 2, Check: 'compliance', Severity: 'warning' },
        { SweepFindings: 0, Check: 'connectivity', Severity: 'critical' },
      ]),
    );
  });

  it('claims no zero for a check that failed, but keeps what it found', () => {
    const findingCounts = countFindings([{ check: 'connectivity', severity: 'critical' }]);

    const points = sweepFindingsMetrics({ findingCounts, failedChecks: ['connectivity', 'cost'] });

    expect(values(points.filter((p) => p.dimensions?.Check !== 'compliance'))).toEqual([
      { SweepFindings: 1, Check: 'connectivity', Severity: 'critical' },
    ]);
    expect(points.filter((p) => p.dimensions?.Check === 'compliance')).toHaveLength(3);
  });

  it('counts hybrid Nodes by state over the clusters, each Node once, every state every night', () => {
    const points = hybridNodesMetrics({
      clusters: [
        { name: 'a', nodes: 5, notReady: 1, cordoned: 2 },
        { name: 'b', nodes: 1, notReady: 1, cordoned: 0 },
        { name: 'c', nodes: 0, notReady: 0, cordoned: 0, problem: 'unreadable' },
      ],
    });

    expect(values(points)).toEqual([
      { HybridNodes: 2, State: 'Ready' },
      { HybridNodes: 2, State: 'NotReady' },
      { HybridNodes: 2, State: 'Cordoned' },
    ]);
  });

  it('emits the forecast, the budget and the forecast as a percentage of the budget, each when known', () => {
    expect(values(costMetrics({ forecastUsd: 1234.5, budgetUsd: 1000 }))).toEqual([
      { CostForecast: 1234.5 },
      { CostBudget: 1000 },
      { CostForecastRatio: 123.5 },
    ]);
    expect(values(costMetrics({ forecastUsd: null, budgetUsd: 1000 }))).toEqual([{ CostBudget: 1000 }]);
    expect(values(costMetrics({ forecastUsd: 80, budgetUsd: null }))).toEqual([{ CostForecast: 80 }]);
  });

  it('serializes each as EMF with its unit: USD as None, the ratio in Percent', () => {
    const [doc] = emfDocuments(costMetrics({ forecastUsd: 90, budgetUsd: 100 }), 'test');

    expect(doc?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'CostForecast', Unit: 'None' },
      { Name: 'CostBudget', Unit: 'None' },
      { Name: 'CostForecastRatio', Unit: 'Percent' },
    ]);
  });
});
