import {
  CostExplorerClient,
  DataUnavailableException,
  GetCostAndUsageCommand,
  type GetCostAndUsageResponse,
  GetCostForecastCommand,
  LimitExceededException,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { InvalidRequestError } from '../../../lib/errors';
import { monthlyCost } from '../../../lib/sweep/cost';
import {
  costFindings,
  type HybridSpend,
  hybridSpend,
  idleNodeFindings,
  monthToDate,
  usd,
} from '../../../lib/sweep/cost-explorer';

const ceMock = mockClient(CostExplorerClient);
const ce = () => new CostExplorerClient({ region: 'us-east-1' });
const november = { start: '2026-11-01', end: '2026-11-22', forecastEnd: '2026-12-01' };
const EKS = { Dimensions: { Key: 'SERVICE', Values: ['Amazon Elastic Kubernetes Service'] } };

const HYBRID = 'APN2-EKS:HybridNodes-vCPU-Hours';
const CLUSTER = 'APN2-AmazonEKS-Hours:perCluster';
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
// 21 days of one 224-vCPU node (224 x 504 h x 0.1099) and of the cluster fee (504 h x 0.10).
const hybridGroup = group(HYBRID, '12407.2704', '112896');
const clusterGroup = group(CLUSTER, '50.4', '504');
// The rest of November: 9 days of both.
const forecast = { Total: { Amount: '5339.0016', Unit: 'USD' }, ForecastResultsByTime: [] };

describe('hybridSpend', () => {
  beforeEach(() => ceMock.reset());

  it('asks for the month to date grouped by usage type and the rest of the month, and adds them up', async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(page([clusterGroup, hybridGroup]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

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
      service: 'Amazon Elastic Kubernetes Service',
      actualUsd: 12407.27,
      vcpuHours: 112896,
      usageTypes: [HYBRID],
      serviceUsageTypes: [CLUSTER, HYBRID],
      serviceUsd: 12457.67,
      forecastUsd: 17796.67,
      forecastRestUsd: 5339,
      requests: 2,
    });
  });

  it('filters on a configured service name', async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(page([]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    await hybridSpend(ce(), { ...november, serviceFilter: 'Amazon Elastic Kubernetes Service - Hybrid Nodes' });

    const filter = { Dimensions: { Key: 'SERVICE', Values: ['Amazon Elastic Kubernetes Service - Hybrid Nodes'] } };
    expect(ceMock.commandCalls(GetCostAndUsageCommand)[0]?.args[0].input.Filter).toEqual(filter);
    expect(ceMock.commandCalls(GetCostForecastCommand)[0]?.args[0].input.Filter).toEqual(filter);
  });

  it('follows NextPageToken and counts each page as a request', async () => {
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
    expect(spend).toMatchObject({ actualUsd: 2000.01, vcpuHours: 18198.36, serviceUsd: 2050.41, requests: 3 });
  });

  it('stops paging at the limit and says the figures may be incomplete', async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(page([hybridGroup], 'more'));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, maxPages: 3 });

    expect(ceMock.commandCalls(GetCostAndUsageCommand)).toHaveLength(3);
    expect(spend.requests).toBe(4);
    expect(spend.actualNote).toBe(
      'Stopped after 3 pages of GetCostAndUsage (0.03 USD): month-to-date figures may be incomplete.',
    );
  });

  it('counts the hybrid vCPU-hours line, not other hybrid or EKS lines, and says which it used', async () => {
    ceMock
      .on(GetCostAndUsageCommand)
      .resolves(
        page([
          clusterGroup,
          group('APN2-AmazonEKS-Hours:extendedSupport', '252', '504'),
          group('APN2-EKS:HybridNodes-Other', '3.21', '1'),
          hybridGroup,
        ]),
      );
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(spend).toMatchObject({ usageTypes: [HYBRID], actualUsd: 12407.27, vcpuHours: 112896 });
    expect(spend.serviceUsd).toBe(12712.88);
  });

  it('falls back to any hybrid line when none says vCPU', async () => {
    ceMock
      .on(GetCostAndUsageCommand)
      .resolves(page([clusterGroup, group('APN2-AmazonEKS-Hours:hybridNodes', '12407.2704', '112896')]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(spend).toMatchObject({ usageTypes: ['APN2-AmazonEKS-Hours:hybridNodes'], actualUsd: 12407.27 });
  });

  it('reports no usage type and nothing spent when no line is hybrid', async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(page([clusterGroup]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(spend).toMatchObject({ usageTypes: [], actualUsd: 0, vcpuHours: 0, serviceUsageTypes: [CLUSTER] });
  });

  it('returns no forecast, with the reason, when Cost Explorer has too little history', async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(page([hybridGroup]));
    ceMock
      .on(GetCostForecastCommand)
      .rejects(new DataUnavailableException({ $metadata: {}, message: 'Insufficient amount of historical data' }));

    const spend = await hybridSpend(ce(), november);

    expect(spend.forecastUsd).toBeUndefined();
    expect(spend.forecastRestUsd).toBeUndefined();
    expect(spend.forecastNote).toBe(
      'Cost Explorer has no forecast for Amazon Elastic Kubernetes Service yet (not enough history: Insufficient amount of historical data).',
    );
    expect(spend).toMatchObject({ actualUsd: 12407.27, requests: 2 });
  });

  it('lets other Cost Explorer errors through', async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(page([hybridGroup]));
    ceMock.on(GetCostForecastCommand).rejects(new LimitExceededException({ $metadata: {}, message: 'Rate exceeded' }));

    await expect(hybridSpend(ce(), november)).rejects.toThrow(LimitExceededException);
  });

  it('asks only for the forecast on the first day of a month', async () => {
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { start: '2026-12-01', end: '2026-12-01', forecastEnd: '2027-01-01' });

    expect(ceMock).not.toHaveReceivedCommand(GetCostAndUsageCommand);
    expect(ceMock.commandCalls(GetCostForecastCommand)[0]?.args[0].input.TimePeriod).toEqual({
      Start: '2026-12-01',
      End: '2027-01-01',
    });
    expect(spend).toMatchObject({
      actualUsd: 0,
      serviceUsd: 0,
      usageTypes: [],
      forecastUsd: 5339,
      requests: 1,
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
    service: 'Amazon Elastic Kubernetes Service',
    actualUsd: 12407.27,
    vcpuHours: 112896,
    usageTypes: [HYBRID],
    serviceUsageTypes: [CLUSTER, HYBRID],
    serviceUsd: 12457.67,
    forecastUsd: 17796.67,
    forecastRestUsd: 5339,
    requests: 2,
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

  it('is critical when the forecast is over the budget', () => {
    expect(findings({ budgetUsd: 15000 })).toEqual([
      {
        id: 'cost:budget:Amazon Elastic Kubernetes Service',
        check: 'cost',
        severity: 'critical',
        cluster: 'gpu-hybrid-cluster',
        resource: 'Amazon Elastic Kubernetes Service',
        message:
          'Amazon Elastic Kubernetes Service is forecast at 17,796.67 USD for 2026-11, 119% of the monthly budget of 15,000.00 USD.',
        evidence:
          '12,457.67 USD month to date (before 2026-11-22) + 5,339.00 USD Cost Explorer forecast for the rest of the month; 2 Cost Explorer requests (0.02 USD).',
        fix: 'Remove idle or NotReady hybrid nodes (delete their Node objects) and move work that does not need GPUs to AWS, or raise the budget if the spend is intended.',
      },
    ]);
  });

  it('warns, under the same id, when the forecast is above 90% of the budget', () => {
    expect(findings({ actual: spend({ forecastUsd: 19000 }), budgetUsd: 20000 })).toEqual([
      expect.objectContaining({
        id: 'cost:budget:Amazon Elastic Kubernetes Service',
        severity: 'warning',
        message:
          'Amazon Elastic Kubernetes Service is forecast at 19,000.00 USD for 2026-11, 95% of the monthly budget of 20,000.00 USD.',
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
        id: 'cost:budget-unchecked:Amazon Elastic Kubernetes Service',
        severity: 'info',
        message:
          'No forecast for 2026-11, so the monthly budget of 20,000.00 USD was checked against the 12,457.67 USD spent so far only.',
        evidence: 'Not enough history.',
      }),
    ]);
    expect(findings({ actual: noForecast, budgetUsd: 10000 })).toEqual([
      expect.objectContaining({
        id: 'cost:budget:Amazon Elastic Kubernetes Service',
        severity: 'critical',
        message:
          'Amazon Elastic Kubernetes Service has already cost 12,457.67 USD in 2026-11, over the monthly budget of 10,000.00 USD.',
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
        evidence: `225792 vCPU-hours of ${HYBRID} before 2026-11-22; expected 17,970.85 USD a 730-hour month at 0.1099 USD per vCPU-hour, 504 h elapsed.`,
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

  it('says when the hybrid usage type was not found instead of comparing', () => {
    const notFound = spend({ actualUsd: 0, vcpuHours: 0, usageTypes: [], serviceUsageTypes: [CLUSTER] });
    expect(findings({ actual: notFound })).toEqual([
      expect.objectContaining({
        id: 'cost:usage-type-not-found:Amazon Elastic Kubernetes Service',
        severity: 'info',
        resource: 'Amazon Elastic Kubernetes Service',
        message:
          "No hybrid vCPU usage type in Amazon Elastic Kubernetes Service for 2026-11, though gpu-hybrid-cluster's hybrid Nodes should have cost 12,407.27 USD so far: actual spend was not compared with expected.",
        evidence: `Usage types this month: ${CLUSTER}; expected 17,970.85 USD a 730-hour month at 0.1099 USD per vCPU-hour, 504 h elapsed.`,
      }),
    ]);
  });

  it('does not compare on the first day of the month', () => {
    const firstDay = spend({
      period: { start: '2026-12-01', end: '2026-12-01', forecastEnd: '2027-01-01' },
      actualUsd: 0,
      vcpuHours: 0,
      usageTypes: [],
      serviceUsageTypes: [],
      serviceUsd: 0,
      actualNote: 'No month-to-date figures on the first day of the month.',
    });
    expect(findings({ actual: firstDay })).toEqual([]);
  });
});

describe('idleNodeFindings', () => {
  it('prices each NotReady node per day and says how to stop the billing', () => {
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
        fix: 'Bring the node back (kubelet, CNI, its link to the cluster), or if it is gone for good delete the Node object: kubectl delete node mi-0123456789abcdef0. Hybrid nodes bill until the Node object is deleted; nodeadm uninstall does not delete it.',
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
