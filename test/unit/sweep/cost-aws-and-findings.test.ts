import {
  CostExplorerClient,
  DataUnavailableException,
  GetCostAndUsageCommand,
  type GetCostAndUsageResponse,
  GetCostForecastCommand,
  GetDimensionValuesCommand,
  type GetDimensionValuesResponse,
  LimitExceededException,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { InvalidRequestError } from '#lib/errors';
import { monthlyCost, usd } from '#lib/pricing';
import { discoveryPeriod, type HybridSpend, hybridSpend, monthToDate } from '#lib/sweep/cost-aws';
import { costFindings, idleNodeFindings } from '#lib/sweep/cost-findings';
import type { CostNames } from '#lib/sweep/cost-names';

const ceMock = mockClient(CostExplorerClient);
const ce = () => new CostExplorerClient({ region: 'us-east-1' });
const november = { start: '2026-11-01', end: '2026-11-22', forecastEnd: '2026-12-01' };
// Cost Explorer's SERVICE value for EKS (what Budgets and cost tools filter on).
const EKS_NAME = 'Amazon Elastic Container Service for Kubernetes';
const EKS = { Dimensions: { Key: 'SERVICE' as const, Values: [EKS_NAME] } };

const HYBRID = 'APN2-EKS:HybridNodes-vCPU-Hours';
const CLUSTER = 'APN2-AmazonEKS-Hours:perCluster';
const SERVICES = ['AWS Lambda', EKS_NAME, 'Amazon Elastic Container Service', 'Amazon Simple Storage Service'];
const group = (type: string, usdAmount: string, quantity: string) => ({
  Keys: [type],
  Metrics: { UnblendedCost: { Amount: usdAmount, Unit: 'USD' }, UsageQuantity: { Amount: quantity, Unit: 'N/A' } },
});
const page = (groups: ReturnType<typeof group>[], NextPageToken?: string): GetCostAndUsageResponse => ({
  GroupDefinitions: [{ Type: 'DIMENSION', Key: 'USAGE_TYPE' }],
  ResultsByTime: [
    { TimePeriod: { Start: '2026-11-01', End: '2026-11-22' }, Total: {}, Groups: groups, Estimated: true },
  ],
  ...(NextPageToken ? { NextPageToken } : {}),
});
const values = (list: string[], NextPageToken?: string): GetDimensionValuesResponse => ({
  DimensionValues: list.map((Value) => ({ Value, Attributes: {} })),
  ReturnSize: list.length,
  TotalSize: list.length,
  ...(NextPageToken ? { NextPageToken } : {}),
});
/** Cost Explorer lists these services, and these usage types of EKS. */
function lists(usageTypes: string[] = [CLUSTER, HYBRID], services: string[] = SERVICES) {
  ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values(services));
  ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values(usageTypes));
}
// 21 days of one 224-vCPU node (224 x 504 h x 0.1099) and of the cluster fee (504 h x 0.10).
const hybridGroup = group(HYBRID, '12407.2704', '112896');
const clusterGroup = group(CLUSTER, '50.4', '504');
// The rest of November: 9 days of both.
const forecast = { Total: { Amount: '5339.0016', Unit: 'USD' }, ForecastResultsByTime: [] };
const discovered = (usageTypes = [HYBRID], listedUsageTypes = [CLUSTER, HYBRID]): CostNames => ({
  services: [EKS_NAME],
  servicesFrom: 'discovery',
  usageTypes,
  usageTypesFrom: 'discovery',
  listedServices: [...SERVICES].sort(),
  listedUsageTypes,
  requests: 2,
});

describe('hybridSpend', () => {
  beforeEach(() => ceMock.reset());

  it("finds EKS's Cost Explorer names, then asks for the month to date by usage type and the rest of the month", async () => {
    lists();
    ceMock.on(GetCostAndUsageCommand, { Filter: EKS }).resolves(page([clusterGroup, hybridGroup]));
    ceMock.on(GetCostForecastCommand, { Filter: EKS }).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    // Discovery looks at last month and this month to date.
    expect(ceMock.commandCalls(GetDimensionValuesCommand).map((c) => c.args[0].input)).toEqual([
      { TimePeriod: { Start: '2026-10-01', End: '2026-11-22' }, Context: 'COST_AND_USAGE', Dimension: 'SERVICE' },
      {
        TimePeriod: { Start: '2026-10-01', End: '2026-11-22' },
        Context: 'COST_AND_USAGE',
        Dimension: 'USAGE_TYPE',
        Filter: EKS,
      },
    ]);
    expect(ceMock.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input)).toEqual([
      {
        TimePeriod: { Start: '2026-11-01', End: '2026-11-22' },
        Granularity: 'MONTHLY',
        Metrics: ['UnblendedCost', 'UsageQuantity'],
        Filter: EKS,
        GroupBy: [{ Type: 'DIMENSION', Key: 'USAGE_TYPE' }],
      },
    ]);
    expect(ceMock.commandCalls(GetCostForecastCommand).map((c) => c.args[0].input)).toEqual([
      {
        TimePeriod: { Start: '2026-11-22', End: '2026-12-01' },
        Metric: 'UNBLENDED_COST',
        Granularity: 'MONTHLY',
        Filter: EKS,
      },
    ]);
    expect(spend).toEqual({
      period: november,
      names: discovered(),
      actualUsd: 12407.27,
      vcpuHours: 112896,
      serviceUsageTypes: [CLUSTER, HYBRID],
      serviceUsd: 12457.67,
      forecastUsd: 17796.67,
      forecastRestUsd: 5339,
      requests: 4,
      keep: {
        month: '2026-11',
        discoveredOn: '2026-11-22',
        services: [EKS_NAME],
        usageTypes: [HYBRID],
        listedServices: [...SERVICES].sort(),
        listedUsageTypes: [CLUSTER, HYBRID],
      },
    });
  });

  it('asks no GetDimensionValues for the names the config pins', async () => {
    const pinned = 'Amazon Elastic Kubernetes Service - Hybrid Nodes';
    ceMock.on(GetCostAndUsageCommand).resolves(page([group('HybridVcpuHours', '1', '2')]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, service: pinned, usageTypes: ['HybridVcpuHours'] });

    const filter = { Dimensions: { Key: 'SERVICE', Values: [pinned] } };
    expect(ceMock).not.toHaveReceivedCommand(GetDimensionValuesCommand);
    expect(ceMock.commandCalls(GetCostAndUsageCommand)[0]?.args[0].input.Filter).toEqual(filter);
    expect(ceMock.commandCalls(GetCostForecastCommand)[0]?.args[0].input.Filter).toEqual(filter);
    expect(spend).toMatchObject({
      names: { services: [pinned], servicesFrom: 'config', usageTypes: ['HybridVcpuHours'], usageTypesFrom: 'config' },
      actualUsd: 1,
      requests: 2,
    });
  });

  it('with only the service pinned, discovers the usage types within it', async () => {
    ceMock.on(GetDimensionValuesCommand).resolves(values([CLUSTER, HYBRID]));
    ceMock.on(GetCostAndUsageCommand).resolves(page([clusterGroup, hybridGroup]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, service: EKS_NAME });

    expect(ceMock.commandCalls(GetDimensionValuesCommand).map((c) => c.args[0].input.Dimension)).toEqual([
      'USAGE_TYPE',
    ]);
    expect(spend).toMatchObject({ names: { servicesFrom: 'config', usageTypes: [HYBRID] }, requests: 3 });
  });

  it('finds no EKS service and asks nothing more, saying so', async () => {
    ceMock.on(GetDimensionValuesCommand).resolves(values(['AWS Lambda', 'Amazon Simple Storage Service']));

    const spend = await hybridSpend(ce(), november);

    expect(ceMock.calls()).toHaveLength(1);
    expect(spend).toMatchObject({
      names: { services: [], usageTypes: [], listedServices: ['AWS Lambda', 'Amazon Simple Storage Service'] },
      actualUsd: 0,
      serviceUsd: 0,
      requests: 1,
      actualNote: 'No EKS service in Cost Explorer from 2026-10-01 to 2026-11-22.',
    });
    expect(spend.forecastUsd).toBeUndefined();
  });

  it('follows NextPageToken and counts each page as a request', async () => {
    lists();
    ceMock
      .on(GetCostAndUsageCommand)
      .resolvesOnce(page([clusterGroup, group(HYBRID, '1000.005', '9099.18')], 'page-2'))
      .resolvesOnce(page([group(HYBRID, '1000.005', '9099.18')]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    const inputs = ceMock.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).not.toHaveProperty('NextPageToken');
    expect(inputs[1]).toEqual({ ...inputs[0], NextPageToken: 'page-2' });
    expect(spend).toMatchObject({ actualUsd: 2000.01, vcpuHours: 18198.36, serviceUsd: 2050.41, requests: 5 });
  });

  it('stops paging at the limit and says the figures may be incomplete', async () => {
    lists();
    ceMock.on(GetCostAndUsageCommand).resolves(page([hybridGroup], 'more'));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, maxPages: 3 });

    expect(ceMock.commandCalls(GetCostAndUsageCommand)).toHaveLength(3);
    expect(spend.requests).toBe(6);
    expect(spend.actualNote).toBe(
      'Stopped after 3 pages of GetCostAndUsage (0.03 USD): month-to-date figures may be incomplete.',
    );
  });

  it('counts the hybrid vCPU-hours line, not other hybrid or EKS lines, and says which it used', async () => {
    const lines = [
      clusterGroup,
      group('APN2-AmazonEKS-Hours:extendedSupport', '252', '504'),
      group('APN2-EKS:HybridNodes-Other', '3.21', '1'),
      hybridGroup,
    ];
    lists(lines.map((l) => l.Keys[0] as string));
    ceMock.on(GetCostAndUsageCommand).resolves(page(lines));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(spend).toMatchObject({ names: { usageTypes: [HYBRID] }, actualUsd: 12407.27, vcpuHours: 112896 });
    expect(spend.serviceUsd).toBe(12712.88);
  });

  it('falls back to any hybrid line when none says vCPU', async () => {
    lists([CLUSTER, 'APN2-AmazonEKS-Hours:hybridNodes']);
    ceMock
      .on(GetCostAndUsageCommand)
      .resolves(page([clusterGroup, group('APN2-AmazonEKS-Hours:hybridNodes', '12407.2704', '112896')]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(spend).toMatchObject({ names: { usageTypes: ['APN2-AmazonEKS-Hours:hybridNodes'] }, actualUsd: 12407.27 });
  });

  it('reports no usage type and nothing spent when no line is hybrid', async () => {
    lists([CLUSTER]);
    ceMock.on(GetCostAndUsageCommand).resolves(page([clusterGroup]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(spend).toMatchObject({
      names: { usageTypes: [], listedUsageTypes: [CLUSTER] },
      actualUsd: 0,
      vcpuHours: 0,
      serviceUsageTypes: [CLUSTER],
    });
  });

  it('returns no forecast, with the reason, when Cost Explorer has too little history', async () => {
    lists();
    ceMock.on(GetCostAndUsageCommand).resolves(page([hybridGroup]));
    ceMock
      .on(GetCostForecastCommand)
      .rejects(new DataUnavailableException({ $metadata: {}, message: 'Insufficient amount of historical data' }));

    const spend = await hybridSpend(ce(), november);

    expect(spend.forecastUsd).toBeUndefined();
    expect(spend.forecastRestUsd).toBeUndefined();
    expect(spend.forecastNote).toBe(
      `Cost Explorer has no forecast for ${EKS_NAME} yet (not enough history: Insufficient amount of historical data).`,
    );
    expect(spend).toMatchObject({ actualUsd: 12407.27, requests: 4 });
  });

  it('lets other Cost Explorer errors through', async () => {
    lists();
    ceMock.on(GetCostAndUsageCommand).resolves(page([hybridGroup]));
    ceMock.on(GetCostForecastCommand).rejects(new LimitExceededException({ $metadata: {}, message: 'Rate exceeded' }));

    await expect(hybridSpend(ce(), november)).rejects.toThrow(LimitExceededException);
  });

  it('on the first day of a month, finds the names in last month and asks only for the forecast', async () => {
    lists();
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { start: '2026-12-01', end: '2026-12-01', forecastEnd: '2027-01-01' });

    expect(ceMock).not.toHaveReceivedCommand(GetCostAndUsageCommand);
    expect(ceMock.commandCalls(GetDimensionValuesCommand)[0]?.args[0].input.TimePeriod).toEqual({
      Start: '2026-11-01',
      End: '2026-12-01',
    });
    expect(ceMock.commandCalls(GetCostForecastCommand)[0]?.args[0].input.TimePeriod).toEqual({
      Start: '2026-12-01',
      End: '2027-01-01',
    });
    expect(spend).toMatchObject({
      actualUsd: 0,
      serviceUsd: 0,
      names: { services: [EKS_NAME], usageTypes: [HYBRID] },
      forecastUsd: 5339,
      requests: 3,
      actualNote:
        'No month-to-date figures on the first day of the month (2026-12-01): Cost Explorer rejects an empty period.',
    });
  });

  it.each([
    [{ start: '2026-11-01', end: '2026-11-31', forecastEnd: '2026-12-01' }],
    [{ start: '2026-11-22', end: '2026-11-01', forecastEnd: '2026-12-01' }],
    [{ start: '2026-11-01', end: '2026-12-01', forecastEnd: '2026-12-01' }],
    [{ start: '2026-11-01', end: '22.11.2026', forecastEnd: '2026-12-01' }],
  ])('refuses the period %p before making a request', async (period) => {
    await expect(hybridSpend(ce(), period)).rejects.toBeInstanceOf(InvalidRequestError);
    expect(ceMock.calls()).toHaveLength(0);
  });
});

describe('discoveryPeriod', () => {
  it.each([
    [november, { start: '2026-10-01', end: '2026-11-22' }],
    [
      { start: '2027-01-01', end: '2027-01-01', forecastEnd: '2027-02-01' },
      { start: '2026-12-01', end: '2027-01-01' },
    ],
  ])('for %p is last month and this month to date: %p', (period, expected) => {
    expect(discoveryPeriod(period)).toEqual(expected);
  });
});

describe('monthToDate', () => {
  it.each([
    ['2026-11-22T18:00:00Z', { start: '2026-11-01', end: '2026-11-22', forecastEnd: '2026-12-01' }],
    ['2026-12-01T00:00:00Z', { start: '2026-12-01', end: '2026-12-01', forecastEnd: '2027-01-01' }],
    // 03:00 in Seoul on 1 March is still 28 February in UTC, Cost Explorer's day.
    ['2027-03-01T03:00:00+09:00', { start: '2027-02-01', end: '2027-02-28', forecastEnd: '2027-03-01' }],
    ['2028-02-29T12:00:00Z', { start: '2028-02-01', end: '2028-02-29', forecastEnd: '2028-03-01' }],
  ])('for %s is %p', (now, period) => {
    expect(monthToDate(new Date(now))).toEqual(period);
  });
});

describe('costFindings', () => {
  const oneNode = monthlyCost(224); // 17,970.85 a 730-hour month
  const spend = (overrides: Partial<HybridSpend> = {}): HybridSpend => ({
    period: november,
    names: discovered(),
    actualUsd: 12407.27,
    vcpuHours: 112896,
    serviceUsageTypes: [CLUSTER, HYBRID],
    serviceUsd: 12457.67,
    forecastUsd: 17796.67,
    forecastRestUsd: 5339,
    requests: 4,
    ...overrides,
  });
  const findings = (input: Partial<Parameters<typeof costFindings>[0]> = {}) =>
    costFindings({
      cluster: 'gpu-hybrid-cluster',
      expectedMonthUsd: oneNode,
      actual: spend(),
      pricePerVcpuHour: 0.1099,
      ...input,
    });
  // What every cost finding says about the names it is about and the requests it took.
  const NAMES = `Cost Explorer SERVICE "${EKS_NAME}" (discovered among 4 services); hybrid usage type(s) "${HYBRID}" (discovered among 2 usage types); 4 Cost Explorer requests (0.04 USD, 2 of them GetDimensionValues).`;

  it('formats money with two decimals and USD', () => {
    expect([usd(17971.52), usd(590.8224), usd(0), usd(1234567)]).toEqual([
      '17,971.52 USD',
      '590.82 USD',
      '0.00 USD',
      '1,234,567.00 USD',
    ]);
  });

  it('finds nothing when spend matches the nodes and the forecast is under budget', () => {
    expect(findings({ budgetUsd: 20000 })).toEqual([]);
  });

  it('is critical when the forecast is over the budget, naming the service and usage types that matched', () => {
    expect(findings({ budgetUsd: 15000 })).toEqual([
      {
        id: `cost:budget:${EKS_NAME}`,
        check: 'cost',
        severity: 'critical',
        cluster: 'gpu-hybrid-cluster',
        resource: EKS_NAME,
        message: `${EKS_NAME} is forecast at 17,796.67 USD for 2026-11, 119% of the monthly budget of 15,000.00 USD.`,
        evidence: `12,457.67 USD month to date (before 2026-11-22) + 5,339.00 USD Cost Explorer forecast for the rest of the month. ${NAMES}`,
        fix: 'Remove idle or NotReady hybrid nodes (delete their Node objects) and move work that does not need GPUs to AWS, or raise the budget if the spend is intended.',
      },
    ]);
  });

  it('says when the names came from the config', () => {
    const pinned: CostNames = {
      ...discovered(),
      servicesFrom: 'config',
      usageTypesFrom: 'config',
      listedServices: [],
      listedUsageTypes: [],
      requests: 0,
    };
    const [finding] = findings({ actual: spend({ names: pinned, requests: 2 }), budgetUsd: 15000 });
    expect(finding?.evidence).toBe(
      `12,457.67 USD month to date (before 2026-11-22) + 5,339.00 USD Cost Explorer forecast for the rest of the month. Cost Explorer SERVICE "${EKS_NAME}" (set in config: sweep.costService); hybrid usage type(s) "${HYBRID}" (set in config: sweep.hybridUsageTypes); 2 Cost Explorer requests (0.02 USD).`,
    );
  });

  it('warns, under the same id, when the forecast is above 90% of the budget', () => {
    expect(findings({ actual: spend({ forecastUsd: 19000 }), budgetUsd: 20000 })).toEqual([
      expect.objectContaining({
        id: `cost:budget:${EKS_NAME}`,
        severity: 'warning',
        message: `${EKS_NAME} is forecast at 19,000.00 USD for 2026-11, 95% of the monthly budget of 20,000.00 USD.`,
      }),
    ]);
  });

  it('stays quiet at exactly 90% of the budget', () => {
    expect(findings({ actual: spend({ forecastUsd: 18000 }), budgetUsd: 20000 })).toEqual([]);
  });

  it('without a forecast, checks the budget against the spend so far and says so', () => {
    const noForecast = spend({
      forecastUsd: undefined,
      forecastRestUsd: undefined,
      forecastNote: 'Not enough history.',
    });
    expect(findings({ actual: noForecast, budgetUsd: 20000 })).toEqual([
      expect.objectContaining({
        id: `cost:budget-unchecked:${EKS_NAME}`,
        severity: 'info',
        message:
          'No forecast for 2026-11, so the monthly budget of 20,000.00 USD was checked against the 12,457.67 USD spent so far only.',
        evidence: `Not enough history. ${NAMES}`,
      }),
    ]);
    expect(findings({ actual: noForecast, budgetUsd: 10000 })).toEqual([
      expect.objectContaining({
        id: `cost:budget:${EKS_NAME}`,
        severity: 'critical',
        message: `${EKS_NAME} has already cost 12,457.67 USD in 2026-11, over the monthly budget of 10,000.00 USD.`,
      }),
    ]);
  });

  it('warns when actual spend is far above what the known nodes explain', () => {
    // Two nodes billing where the cluster knows one: 2 x 12,407.27 against 12,407.27 expected for 21 days.
    expect(findings({ actual: spend({ actualUsd: 24814.54, vcpuHours: 225792 }) })).toEqual([
      {
        id: 'cost:actual-over-expected:gpu-hybrid-cluster',
        check: 'cost',
        severity: 'warning',
        cluster: 'gpu-hybrid-cluster',
        resource: HYBRID,
        message:
          "Hybrid nodes have cost 24,814.54 USD in 2026-11 to date, over 1.5x the 12,407.27 USD that gpu-hybrid-cluster's hybrid Nodes explain.",
        evidence: `225792 vCPU-hours of ${HYBRID} before 2026-11-22; expected 17,970.85 USD a 730-hour month at 0.1099 USD per vCPU-hour, 504 h elapsed. ${NAMES}`,
        fix: 'Look for hybrid Nodes in another cluster or Region of this account, or deleted and re-created; check the per-vCPU-hour price on the EKS pricing page and update the configured price if it changed.',
      },
    ]);
  });

  it('does not warn at 1.5x expected, only above', () => {
    expect(findings({ actual: spend({ actualUsd: 18610.9 }) })).toEqual([]);
    expect(findings({ actual: spend({ actualUsd: 18610.92 }) })).toHaveLength(1);
  });

  it('warns when hybrid nodes bill and the cluster has none', () => {
    expect(findings({ expectedMonthUsd: 0 })).toEqual([
      expect.objectContaining({ id: 'cost:actual-over-expected:gpu-hybrid-cluster', severity: 'warning' }),
    ]);
  });

  it('says when no hybrid usage type was found instead of comparing', () => {
    const notFound = spend({
      names: discovered([], [CLUSTER]),
      actualUsd: 0,
      vcpuHours: 0,
      serviceUsageTypes: [CLUSTER],
    });
    expect(findings({ actual: notFound })).toEqual([
      expect.objectContaining({
        id: `cost:usage-type-not-found:${EKS_NAME}`,
        severity: 'info',
        resource: EKS_NAME,
        message: `No hybrid vCPU usage in ${EKS_NAME} for 2026-11, though gpu-hybrid-cluster's hybrid Nodes should have cost 12,407.27 USD so far: actual spend was not compared with expected.`,
        evidence: `Usage types this month: ${CLUSTER}; expected 17,970.85 USD a 730-hour month at 0.1099 USD per vCPU-hour, 504 h elapsed. Cost Explorer SERVICE "${EKS_NAME}" (discovered among 4 services); no hybrid usage type among its 1 usage type (${CLUSTER}); 4 Cost Explorer requests (0.04 USD, 2 of them GetDimensionValues).`,
      }),
    ]);
  });

  it('says the same when a hybrid usage type found last month has not billed this month', () => {
    const lastMonthOnly = spend({ actualUsd: 0, vcpuHours: 0, serviceUsageTypes: [CLUSTER] });
    expect(findings({ actual: lastMonthOnly }).map((f) => f.id)).toEqual([`cost:usage-type-not-found:${EKS_NAME}`]);
  });

  it('says clearly that nothing was compared when Cost Explorer lists no EKS service', () => {
    const none: CostNames = {
      ...discovered([], []),
      services: [],
      listedServices: ['AWS Lambda', 'Amazon Simple Storage Service'],
      requests: 1,
    };
    const nothing = spend({
      names: none,
      actualUsd: 0,
      vcpuHours: 0,
      serviceUsageTypes: [],
      serviceUsd: 0,
      forecastUsd: undefined,
      forecastRestUsd: undefined,
      actualNote: 'No EKS service in Cost Explorer from 2026-10-01 to 2026-11-22.',
      forecastNote: 'No EKS service in Cost Explorer from 2026-10-01 to 2026-11-22.',
      requests: 1,
    });
    expect(findings({ actual: nothing, budgetUsd: 20000 })).toEqual([
      {
        id: 'cost:service-not-found',
        check: 'cost',
        severity: 'info',
        cluster: 'gpu-hybrid-cluster',
        resource: 'Cost Explorer SERVICE',
        message:
          'Cost Explorer lists no EKS service from 2026-10-01 to 2026-11-22, so tonight nothing was compared with the monthly budget of 20,000.00 USD or with what the hybrid Nodes explain.',
        evidence:
          'Services with spend then: AWS Lambda, Amazon Simple Storage Service; none is an Amazon service naming Kubernetes. 1 Cost Explorer request (0.01 USD, 1 of them GetDimensionValues).',
        fix: 'A new account or cluster takes up to a day to appear in Cost Explorer. If EKS bills under a name this sweep does not recognise, set sweep.costService (and sweep.hybridUsageTypes) in config/<stage>.yaml to the names Cost Explorer lists; discovery is then skipped.',
      },
    ]);
  });

  it('does not compare on the first day of the month', () => {
    const firstDay = spend({
      period: { start: '2026-12-01', end: '2026-12-01', forecastEnd: '2027-01-01' },
      actualUsd: 0,
      vcpuHours: 0,
      serviceUsageTypes: [],
      serviceUsd: 0,
      actualNote: 'No month-to-date figures on the first day of the month.',
    });
    expect(findings({ actual: firstDay })).toEqual([]);
  });
});

describe('idleNodeFindings', () => {
  it('prices each NotReady node per day and offers the offboarding call that stops the billing', () => {
    const result = idleNodeFindings(
      'gpu-hybrid-cluster',
      [
        { name: 'mi-0123456789abcdef0', vcpus: 224, since: '2026-11-20T03:12:00Z' },
        { name: 'mi-0fedcba9876543210', vcpus: 8, reason: 'ConnectionLost' },
      ],
      0.1099,
    );
    expect(result).toEqual([
      {
        id: 'cost:not-ready:mi-0123456789abcdef0',
        check: 'cost',
        severity: 'warning',
        cluster: 'gpu-hybrid-cluster',
        resource: 'mi-0123456789abcdef0',
        message:
          'Node mi-0123456789abcdef0 is NotReady since 2026-11-20T03:12:00Z and still billing: 590.82 USD per day.',
        evidence: '224 vCPU x 0.1099 USD per vCPU-hour x 24 h.',
        fix: 'Bring the node back (kubelet, CNI, its link to the cluster), or if it is gone for good offboard it: DELETE /nodes/mi-0123456789abcdef0 (locally: hybridops run offboard-node with the input {"node": "mi-0123456789abcdef0"}). That drains it, runs nodeadm uninstall if its host still answers, deletes the Node object and deregisters its managed instance. Hybrid nodes bill until the Node object is deleted.',
      },
      expect.objectContaining({
        id: 'cost:not-ready:mi-0fedcba9876543210',
        message: 'Node mi-0fedcba9876543210 is ConnectionLost and still billing: 21.10 USD per day.',
      }),
    ]);
  });

  it('prices NotReady nodes at the configured price', () => {
    const [finding] = idleNodeFindings('gpu-hybrid-cluster', [{ name: 'mi-1', vcpus: 8 }], 0.2);
    expect(finding).toMatchObject({
      message: 'Node mi-1 is NotReady and still billing: 38.40 USD per day.',
      evidence: '8 vCPU x 0.2 USD per vCPU-hour x 24 h.',
    });
  });
});
