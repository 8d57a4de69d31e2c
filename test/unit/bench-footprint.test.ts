import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { RunResult } from '#cli/runner';
import { DEFAULT_MODEL, type Measured, NO_USAGE, parsePrices, type Usage } from '#lib/footprint';
import {
  cloudWatchItems,
  FOOTPRINT_NODES,
  footprintReport,
  noteRunMetrics,
  replaceSection,
  type ResourcesPart,
  stackResources,
} from '../../scripts/bench-footprint';

const usage = (part: Partial<Usage>): Usage => ({ ...NO_USAGE, ...part });
const prices = () => parsePrices(JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'prices.json'), 'utf8')));

const bySize = (ceRequests: number) =>
  Object.fromEntries(FOOTPRINT_NODES.map((n) => [n, usage({ transitions: 12, ceRequests })]));
const measured = (cachedNight: number, firstNight: number): Measured => ({
  onboarding: usage({ transitions: 38, apiRequests: 2 }),
  offboarding: usage({ transitions: 56, apiRequests: 1 }),
  statusPoll: usage({ apiRequests: 1 }),
  reconcile: usage({ transitions: 10 }),
  sweep: bySize(cachedNight),
  sweepFirstNight: bySize(firstNight),
});

describe("the bench report's footprint section", () => {
  const section = () =>
    footprintReport({
      measured: measured(2, 3),
      pinned: measured(2, 1),
      model: DEFAULT_MODEL,
      prices: prices(),
      fixed: { customMetrics: 12, alarms: 20, dashboards: 1 },
      ceNights: {
        firstOfMonth: { GetDimensionValues: 2, GetCostForecast: 1 },
        cached: { GetCostAndUsage: 1, GetCostForecast: 1 },
        cold: { GetDimensionValues: 2, GetCostAndUsage: 1, GetCostForecast: 1 },
      },
    });

  it('has the bill at 10, 100 and 1,000 nodes, its total, and the total with the Cost Explorer names pinned', () => {
    const text = section().join('\n');
    expect(text).toMatch(
      /^\| item \| 10 nodes: quantity \| USD \| 100 nodes: quantity \| USD \| 1,000 nodes: quantity \| USD \|$/m,
    );
    // 3 Cost Explorer requests on the 1st and 2 on each of the other 29.4 nights: 61.8 requests, 0.62 USD, at every size.
    expect(text).toMatch(/^\| Cost Explorer API requests \| 61\.8 \| 0\.62 \| 61\.8 \| 0\.62 \| 61\.8 \| 0\.62 \|$/m);
    expect(text).toMatch(/^\| \*\*total, outside CloudWatch's fixed items\*\* \|/m);
    expect(text).toMatch(/^\| total with sweep\.costService and sweep\.hybridUsageTypes pinned \|/m);
  });

  it("lists CloudWatch's fixed items apart and states the Cost Explorer requests a night", () => {
    const text = section().join('\n');
    expect(text).toMatch(/^\| CloudWatch alarms \(standard resolution\) \| 20 \| 2\.00 \|$/m);
    expect(text).toMatch(/^\| CloudWatch dashboards \| 1 \| 3\.00 \|$/m);
    expect(text).toMatch(
      /Cost Explorer requests a night .*: 2 at 10 nodes, 2 at 100 nodes, 2 at 1,000 nodes\non a night with the month's names kept in the run store \(1 GetCostAndUsage, 1 GetCostForecast\)/,
    );
    expect(text).toMatch(
      /on the 1st of the month, which\ndiscovers the names again and asks no month to date: 3 at 10 nodes/,
    );
    expect(text).toMatch(
      /on a first night\never, mid-month: 4 \(2 GetDimensionValues, 1 GetCostAndUsage, 1 GetCostForecast\)\. A month: 61\.8 requests/,
    );
    expect(text).toMatch(
      /pinned in\nconfig\/<stage>\.yaml: 2 at 10 nodes, 2 at 100 nodes, 2 at 1,000 nodes, and 1 at 10 nodes/,
    );
  });

  it('states the operating model next to the table', () => {
    expect(section().join('\n')).toMatch(/0\.1 onboardings and 0\.05 offboardings per node per month/);
  });
});

describe('rewriting one section of bench/report.md', () => {
  const report = [
    '# Benchmark report',
    '',
    '## A',
    'a',
    '',
    "## The tool's own bill (footprint)",
    'old',
    '',
    '## C',
    'c',
    '',
  ].join('\n');

  it('replaces the section in place and keeps the others', () => {
    const out = replaceSection(report, ["## The tool's own bill (footprint)", 'new', '']);
    expect(out).toBe(
      [
        '# Benchmark report',
        '',
        '## A',
        'a',
        '',
        "## The tool's own bill (footprint)",
        'new',
        '',
        '## C',
        'c',
        '',
      ].join('\n'),
    );
  });

  it('adds the section at the end when the report has none', () => {
    expect(replaceSection('# Benchmark report\n\n## A\na\n', ['## B', 'b', ''])).toBe(
      '# Benchmark report\n\n## A\na\n\n## B\nb\n',
    );
  });
});

describe("CloudWatch's fixed items, counted from the stack's resources", () => {
  it('counts every alarm and dashboard, and each metric of a metric-math alarm', () => {
    const alarm = { Type: 'AWS::CloudWatch::Alarm', Properties: {} };
    const math = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: { Metrics: [{ MetricStat: {} }, { MetricStat: {} }, { Expression: 'm1 + m2' }] },
    };
    const parts: ResourcesPart[] = [
      { Resources: { A: alarm, B: alarm, Topic: { Type: 'AWS::SNS::Topic' } } },
      { Resources: { Math: math, Board: { Type: 'AWS::CloudWatch::Dashboard' } } },
      undefined,
    ];
    expect(cloudWatchItems(parts)).toEqual({ alarms: 4, dashboards: 1 });
  });

  it('finds the alarms resources/*.js make in loops, as serverless.yml assembles them', async () => {
    const parts = await stackResources();
    const resources = parts.flatMap((p) => Object.entries(p?.Resources ?? {}));
    const types = resources.map(([, r]) => r.Type);
    expect(types).toContain('AWS::S3::Bucket'); // the inline resources are read too
    const functions = Object.keys(
      (
        parse(readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
          functions: Record<string, unknown>;
        }
      ).functions,
    ).length;
    const { alarms } = cloudWatchItems(parts);
    // three per state machine, and each function's Errors and Throttles in a metric-math alarm
    // (workflow-alarms.js builds those from `self:functions`)
    expect(
      resources.filter(([id]) => /^\w+StateMachineExecutions(Failed|TimedOut|Aborted)Alarm$/.test(id)),
    ).toHaveLength(3 * 6);
    expect(alarms).toBeGreaterThanOrEqual(3 * 6 + 2 * functions);
  });
});

describe('the custom metric series the measured runs emitted', () => {
  it('counts the EMF documents a local run records with itself and its child runs, one per series', () => {
    const emf = (name: string, phase: string) => ({
      _aws: {
        Timestamp: 0,
        CloudWatchMetrics: [
          { Namespace: 'EksHybridOps', Dimensions: [['service', 'Phase']], Metrics: [{ Name: name }] },
        ],
      },
      service: 'bench',
      Phase: phase,
      [name]: 1,
    });
    const child = { metrics: [emf('PhaseDuration', 'join'), emf('PhaseDuration', 'activate')] };
    const run = { metrics: [emf('PhaseDuration', 'join')], children: [child] } as unknown as RunResult;
    const series = new Set<string>();

    noteRunMetrics(run, series);

    expect([...series].sort()).toEqual([
      'EksHybridOps/PhaseDuration{service=bench,Phase=activate}',
      'EksHybridOps/PhaseDuration{service=bench,Phase=join}',
    ]);
  });
});
