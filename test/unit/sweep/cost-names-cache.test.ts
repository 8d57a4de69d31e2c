import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  type GetCostAndUsageResponse,
  GetCostForecastCommand,
  GetDimensionValuesCommand,
  type GetDimensionValuesResponse,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { hybridSpend } from '#lib/sweep/cost-aws';
import { type CachedCostNames, describeNames } from '#lib/sweep/cost-names';

/** The names discovery finds are kept for the month: which nights ask Cost Explorer what. */

const ceMock = mockClient(CostExplorerClient);
const ce = () => new CostExplorerClient({ region: 'us-east-1' });
const EKS = 'Amazon Elastic Container Service for Kubernetes';
const RENAMED = 'Amazon Elastic Kubernetes Service';
const HYBRID = 'APN2-EKS:HybridNodes-vCPU-Hours';
const HYBRID_NEW = 'APN2-EKS:HybridNodes-vCPU-Hours:v2';
const CLUSTER = 'APN2-AmazonEKS-Hours:perCluster';
const SERVICES = ['AWS Lambda', EKS];
const november = { start: '2026-11-01', end: '2026-11-22', forecastEnd: '2026-12-01' };
const filterOn = (service: string) => ({ Dimensions: { Key: 'SERVICE' as const, Values: [service] } });

const values = (list: string[]): GetDimensionValuesResponse => ({
  DimensionValues: list.map((Value) => ({ Value, Attributes: {} })),
  ReturnSize: list.length,
  TotalSize: list.length,
});
const lines = (...types: string[]): GetCostAndUsageResponse => ({
  ResultsByTime: [
    {
      Groups: types.map((t) => ({
        Keys: [t],
        Metrics: { UnblendedCost: { Amount: '10', Unit: 'USD' }, UsageQuantity: { Amount: '100', Unit: 'N/A' } },
      })),
    },
  ],
});
const forecast = { Total: { Amount: '5', Unit: 'USD' } };

/** What November's first night kept. */
const kept: CachedCostNames = {
  month: '2026-11',
  discoveredOn: '2026-11-01',
  services: [EKS],
  usageTypes: [HYBRID],
  listedServices: SERVICES,
  listedUsageTypes: [CLUSTER, HYBRID],
};

/** Every request made, in order, as `Command Dimension-or-service`. */
const asked = () =>
  ceMock.calls().map((c) => {
    const input = c.args[0].input as { Dimension?: string; Filter?: { Dimensions?: { Values?: string[] } } };
    const name = c.args[0].constructor.name.replace(/Command$/, '');
    return `${name} ${input.Dimension ?? input.Filter?.Dimensions?.Values?.join('+') ?? ''}`.trim();
  });

beforeEach(() => ceMock.reset());

describe('Cost Explorer requests a night', () => {
  it('a night with no kept names discovers them (4 requests) and returns them to keep', async () => {
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values(SERVICES));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values([CLUSTER, HYBRID]));
    ceMock.on(GetCostAndUsageCommand).resolves(lines(CLUSTER, HYBRID));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(asked()).toEqual([
      'GetDimensionValues SERVICE',
      'GetDimensionValues USAGE_TYPE',
      `GetCostAndUsage ${EKS}`,
      `GetCostForecast ${EKS}`,
    ]);
    expect(spend.requests).toBe(4);
    expect(spend.keep).toEqual({ ...kept, discoveredOn: '2026-11-22' });
  });

  it("a night with the month's kept names asks no GetDimensionValues (2 requests) and says where the names came from", async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(lines(CLUSTER, HYBRID));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, cached: kept });

    expect(asked()).toEqual([`GetCostAndUsage ${EKS}`, `GetCostForecast ${EKS}`]);
    expect(ceMock.commandCalls(GetCostAndUsageCommand)[0]?.args[0].input.Filter).toEqual(filterOn(EKS));
    expect(spend).toMatchObject({ requests: 2, actualUsd: 10, serviceUsd: 20, forecastUsd: 25 });
    expect(spend.keep).toBeUndefined();
    // The findings still say what discovery listed, and when.
    expect(describeNames(spend.names)).toBe(
      `Cost Explorer SERVICE "${EKS}" (discovered on 2026-11-01, kept for the month, among 2 services); hybrid usage type(s) "${HYBRID}" (discovered on 2026-11-01, kept for the month, among 2 usage types)`,
    );
  });

  it("at a month boundary the last month's names are not used: the 1st discovers (3 requests) and keeps them for its month", async () => {
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values(SERVICES));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values([CLUSTER, HYBRID]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), {
      start: '2026-12-01',
      end: '2026-12-01',
      forecastEnd: '2027-01-01',
      cached: kept,
    });

    expect(asked()).toEqual(['GetDimensionValues SERVICE', 'GetDimensionValues USAGE_TYPE', `GetCostForecast ${EKS}`]);
    expect(spend.keep).toMatchObject({ month: '2026-12', discoveredOn: '2026-12-01', services: [EKS] });
  });

  it('kept names whose service returns nothing are stale: discovers again and asks the month to date of the new name', async () => {
    ceMock.on(GetCostAndUsageCommand, { Filter: filterOn(EKS) }).resolves(lines());
    ceMock.on(GetCostAndUsageCommand, { Filter: filterOn(RENAMED) }).resolves(lines(HYBRID));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values(['AWS Lambda', RENAMED]));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values([HYBRID]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, cached: kept });

    expect(asked()).toEqual([
      `GetCostAndUsage ${EKS}`,
      'GetDimensionValues SERVICE',
      'GetDimensionValues USAGE_TYPE',
      `GetCostAndUsage ${RENAMED}`,
      `GetCostForecast ${RENAMED}`,
    ]);
    expect(spend).toMatchObject({ requests: 5, actualUsd: 10, names: { services: [RENAMED], requests: 2 } });
    expect(spend.names.discoveredOn).toBeUndefined();
    expect(spend.keep).toMatchObject({ month: '2026-11', discoveredOn: '2026-11-22', services: [RENAMED] });
  });

  it('kept usage types the service no longer bills are stale: rediscovers them without asking the month to date again', async () => {
    ceMock.on(GetCostAndUsageCommand).resolves(lines(CLUSTER, HYBRID_NEW));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values(SERVICES));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values([CLUSTER, HYBRID_NEW]));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, cached: kept });

    expect(asked()).toEqual([
      `GetCostAndUsage ${EKS}`,
      'GetDimensionValues SERVICE',
      'GetDimensionValues USAGE_TYPE',
      `GetCostForecast ${EKS}`,
    ]);
    expect(spend).toMatchObject({ requests: 4, actualUsd: 10, names: { usageTypes: [HYBRID_NEW] } });
    expect(spend.keep?.usageTypes).toEqual([HYBRID_NEW]);
  });

  it('does not use names kept for another service than the config pins', async () => {
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values([HYBRID]));
    ceMock.on(GetCostAndUsageCommand).resolves(lines(HYBRID));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), { ...november, service: RENAMED, cached: kept });

    expect(asked()).toEqual([
      `GetDimensionValues USAGE_TYPE`,
      `GetCostAndUsage ${RENAMED}`,
      `GetCostForecast ${RENAMED}`,
    ]);
    expect(spend.keep).toMatchObject({ services: [RENAMED], usageTypes: [HYBRID] });
  });

  it('keeps nothing when discovery found no hybrid usage type, so the next night looks again', async () => {
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values(SERVICES));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values([CLUSTER]));
    ceMock.on(GetCostAndUsageCommand).resolves(lines(CLUSTER));
    ceMock.on(GetCostForecastCommand).resolves(forecast);

    const spend = await hybridSpend(ce(), november);

    expect(spend.requests).toBe(4);
    expect(spend.keep).toBeUndefined();
  });
});
