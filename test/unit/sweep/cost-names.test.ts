import {
  CostExplorerClient,
  GetDimensionValuesCommand,
  type GetDimensionValuesResponse,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { costNames, describeNames, hybridUsageTypes, isEksService } from '#lib/sweep/cost-names';

const ceMock = mockClient(CostExplorerClient);
const ce = () => new CostExplorerClient({ region: 'us-east-1' });
const PERIOD = { start: '2026-10-01', end: '2026-11-22' };
const EKS = 'Amazon Elastic Container Service for Kubernetes';
const HYBRID = 'APN2-EKS:HybridNodes-vCPU-Hours';
const CLUSTER = 'APN2-AmazonEKS-Hours:perCluster';

const values = (list: string[], NextPageToken?: string, TotalSize = list.length): GetDimensionValuesResponse => ({
  DimensionValues: list.map((Value) => ({ Value, Attributes: {} })),
  ReturnSize: list.length,
  TotalSize,
  ...(NextPageToken ? { NextPageToken } : {}),
});

beforeEach(() => ceMock.reset());

describe("EKS's Cost Explorer names", () => {
  it.each([
    [EKS, true],
    ['Amazon Elastic Kubernetes Service', true],
    ['Amazon Elastic Kubernetes Service - Hybrid Nodes', true],
    ['Amazon Elastic Container Service', false],
    ['Amazon EC2 Container Registry (ECR)', false],
    ['Kubecost for Kubernetes (Marketplace)', false],
    ['AWS Lambda', false],
  ])('%s is an EKS service: %s', (value, expected) => {
    expect(isEksService(value)).toBe(expected);
  });

  it('takes the hybrid vCPU usage types, or any hybrid one when none says vCPU', () => {
    expect(hybridUsageTypes([CLUSTER, 'APN2-EKS:HybridNodes-Other', HYBRID])).toEqual([HYBRID]);
    expect(hybridUsageTypes([CLUSTER, 'APN2-AmazonEKS-Hours:hybridNodes'])).toEqual([
      'APN2-AmazonEKS-Hours:hybridNodes',
    ]);
    expect(hybridUsageTypes([CLUSTER])).toEqual([]);
  });
});

describe('costNames', () => {
  it('lists SERVICE page by page, then USAGE_TYPE within the EKS service, counting every page', async () => {
    ceMock
      .on(GetDimensionValuesCommand, { Dimension: 'SERVICE' })
      .resolvesOnce(values(['AWS Lambda', 'Amazon Elastic Container Service'], 'services-2', 4))
      .resolvesOnce(values([EKS, 'Amazon Simple Storage Service'], undefined, 4));
    ceMock
      .on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' })
      .resolvesOnce(values([CLUSTER], 'types-2', 2))
      .resolvesOnce(values([HYBRID], undefined, 2));

    const names = await costNames(ce(), PERIOD);

    const base = { TimePeriod: { Start: '2026-10-01', End: '2026-11-22' }, Context: 'COST_AND_USAGE' };
    const usageTypes = { ...base, Dimension: 'USAGE_TYPE', Filter: { Dimensions: { Key: 'SERVICE', Values: [EKS] } } };
    expect(ceMock.commandCalls(GetDimensionValuesCommand).map((c) => c.args[0].input)).toEqual([
      { ...base, Dimension: 'SERVICE' },
      { ...base, Dimension: 'SERVICE', NextPageToken: 'services-2' },
      usageTypes,
      { ...usageTypes, NextPageToken: 'types-2' },
    ]);
    expect(names).toEqual({
      services: [EKS],
      servicesFrom: 'discovery',
      usageTypes: [HYBRID],
      usageTypesFrom: 'discovery',
      listedServices: ['AWS Lambda', 'Amazon Elastic Container Service', EKS, 'Amazon Simple Storage Service'].sort(),
      listedUsageTypes: [CLUSTER, HYBRID],
      requests: 4,
    });
    expect(describeNames(names)).toBe(
      `Cost Explorer SERVICE "${EKS}" (discovered among 4 services); hybrid usage type(s) "${HYBRID}" (discovered among 2 usage types)`,
    );
  });

  it('filters the usage types on every EKS service listed', async () => {
    const renamed = 'Amazon Elastic Kubernetes Service';
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values([EKS, renamed]));
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'USAGE_TYPE' }).resolves(values([HYBRID]));

    const names = await costNames(ce(), PERIOD);

    expect(ceMock.commandCalls(GetDimensionValuesCommand)[1]?.args[0].input.Filter).toEqual({
      Dimensions: { Key: 'SERVICE', Values: [EKS, renamed] },
    });
    expect(names.services).toEqual([EKS, renamed]);
  });

  it('stops a listing at the page limit and says a name may have been missed', async () => {
    ceMock.on(GetDimensionValuesCommand, { Dimension: 'SERVICE' }).resolves(values(['AWS Lambda'], 'more', 900));

    const names = await costNames(ce(), { ...PERIOD, maxPages: 2 });

    expect(ceMock.commandCalls(GetDimensionValuesCommand)).toHaveLength(2);
    expect(names).toMatchObject({
      services: [],
      requests: 2,
      note: 'Discovery incomplete: the SERVICE list stopped after 2 pages (900 values).',
    });
  });

  it('asks nothing about the usage types when no EKS service is listed', async () => {
    ceMock.on(GetDimensionValuesCommand).resolves(values(['AWS Lambda']));

    const names = await costNames(ce(), PERIOD);

    expect(ceMock.commandCalls(GetDimensionValuesCommand)).toHaveLength(1);
    expect(names).toMatchObject({ services: [], usageTypes: [], listedServices: ['AWS Lambda'], requests: 1 });
  });

  it('asks nothing for names the config pins', async () => {
    const names = await costNames(ce(), { ...PERIOD, service: EKS, usageTypes: [HYBRID] });

    expect(ceMock.calls()).toHaveLength(0);
    expect(names).toEqual({
      services: [EKS],
      servicesFrom: 'config',
      usageTypes: [HYBRID],
      usageTypesFrom: 'config',
      listedServices: [],
      listedUsageTypes: [],
      requests: 0,
    });
  });
});
