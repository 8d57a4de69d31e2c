import {
  DataUnavailableException,
  GetCostAndUsageCommand,
  type GetCostAndUsageRequest,
  GetCostForecastCommand,
  GetDimensionValuesCommand,
  type GetDimensionValuesRequest,
  InvalidNextTokenException,
  RequestChangedException,
} from '@aws-sdk/client-cost-explorer';
import { ListInsightsCommand, type ListInsightsRequest, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { GetObjectCommand, NoSuchBucket, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeActivationsCommand,
  DescribeInstanceInformationCommand,
  type InstanceInformationStringFilter,
  InvalidFilterKey,
} from '@aws-sdk/client-ssm';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';
import { sandboxKubeApi } from '#lib/sandbox/kubernetes';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import type { EstateSeed } from '#lib/sandbox/seed';
import { s3Store } from '#lib/store';

/**
 * The sandbox services the nightly sweep reads, on the seed (sandbox/estate.yaml) or an edited
 * copy of it. The sandbox clock is real time, so Date is frozen at NOW: the estate is seeded at
 * NOW and every figure below is exact.
 */
const NOW = new Date('2026-11-22T06:00:00.000Z');
const HOUR = 3600_000;
const CLUSTER = 'gpu-hybrid-cluster';
const ACCOUNT = '111122223333';
const CLUSTER_ARN = `arn:aws:eks:ap-northeast-2:${ACCOUNT}:cluster/${CLUSTER}`;
const EDGE_ARN = `arn:aws:eks:ap-northeast-2:${ACCOUNT}:cluster/edge-cluster`;
const EKS_SERVICE = 'Amazon Elastic Container Service for Kubernetes';
const HYBRID_USAGE = 'APN2-HybridNodes-vCPU-Hours';
const CLUSTER_USAGE = 'APN2-AmazonEKS-Hours:perCluster';
// S3's SERVICE value and Standard storage usage type in Seoul (APN2): S3 user guide,
// "Understanding your AWS billing and usage reports for Amazon S3".
const S3_SERVICE = 'Amazon Simple Storage Service';
const S3_USAGE = 'APN2-TimedStorage-ByteHrs';
const MI_02 = 'mi-0a2b4c6d8e0f12342';
const MI_03 = 'mi-0a2b4c6d8e0f12343';
const MI_04 = 'mi-0a2b4c6d8e0f12344';
const EXPIRED_ACTIVATION = '0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b';

const seed = (): EstateSeed => loadSeed(DEFAULT_SEED);
const open = (s: EstateSeed = seed()) => withServices(SandboxEstate.inMemory(s));

beforeEach(() => {
  jest.useFakeTimers({
    now: NOW,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
});
afterEach(() => jest.useRealTimers());

describe('sandbox Cost Explorer', () => {
  const eksFilter = { Dimensions: { Key: 'SERVICE' as const, Values: [EKS_SERVICE] } };
  const usage = (
    start: string,
    end: string,
    filter: GetCostAndUsageRequest['Filter'] = eksFilter,
  ): GetCostAndUsageRequest => ({
    TimePeriod: { Start: start, End: end },
    Granularity: 'MONTHLY',
    Metrics: ['UnblendedCost', 'UsageQuantity'],
    Filter: filter,
    GroupBy: [{ Type: 'DIMENSION', Key: 'USAGE_TYPE' }],
  });
  /** Each group as numbers, by usage type. */
  async function costs(estate: SandboxEstate, request: GetCostAndUsageRequest) {
    const answer = await estate.clients().ce.send(new GetCostAndUsageCommand(request));
    const groups = answer.ResultsByTime?.[0]?.Groups ?? [];
    return Object.fromEntries(
      groups.map((g) => [
        g.Keys?.[0],
        { usd: Number(g.Metrics?.UnblendedCost?.Amount), quantity: Number(g.Metrics?.UsageQuantity?.Amount) },
      ]),
    );
  }
  /** vCPU-hours of the seed's Nodes in [start, end), each from when it joined, up to `now`. */
  function expectedVcpuHours(s: EstateSeed, start: string, end: string, now: number): number {
    const from = Date.parse(`${start}T00:00:00Z`);
    const to = Math.min(Date.parse(`${end}T00:00:00Z`), now);
    return s.fleet
      .filter((f) => f.node)
      .reduce((sum, f) => {
        const joined = NOW.getTime() - f.joinedDaysAgo * 24 * HOUR;
        return sum + (f.vcpus * Math.max(0, to - Math.max(from, joined))) / HOUR;
      }, 0);
  }

  it("bills the seeded Nodes' vCPU-hours this month up to the sandbox clock, at the seed price", async () => {
    const estate = open();

    const groups = await costs(estate, usage('2026-11-01', '2026-12-01'));

    // 224 + 224 + 64 vCPUs, each joined before November, for the 510 hours to Nov 22 06:00.
    const vcpuHours = expectedVcpuHours(estate.seed, '2026-11-01', '2026-12-01', NOW.getTime());
    expect(vcpuHours).toBe(512 * 510);
    expect(Object.keys(groups)).toEqual([HYBRID_USAGE, CLUSTER_USAGE]);
    expect(groups[HYBRID_USAGE]?.quantity).toBeCloseTo(vcpuHours, 6);
    expect(groups[HYBRID_USAGE]?.usd).toBeCloseTo(vcpuHours * 0.1099, 6);
    expect(groups[HYBRID_USAGE]?.usd).toBeCloseTo(28697.088, 6);
  });

  it('bills the fixed usage at its daily amount for the hours of the period so far', async () => {
    const groups = await costs(open(), usage('2026-11-01', '2026-12-01'));

    expect(groups[CLUSTER_USAGE]).toEqual({
      usd: expect.closeTo((510 * 2.4) / 24, 6),
      quantity: expect.closeTo(510, 6),
    });
  });

  it('bills a Node only from when it joined, not a Node that is gone, and the untracked vCPUs', async () => {
    const s = seed();
    s.fleet.push(
      { ...s.fleet[0]!, name: 'gpu-node-05', instanceId: 'mi-0a2b4c6d8e0f12345', vcpus: 96, joinedDaysAgo: 5 },
      { ...s.fleet[0]!, name: 'gpu-node-06', instanceId: 'mi-0a2b4c6d8e0f12346', vcpus: 32, node: false },
    );
    s.costExplorer!.untrackedVcpus = 8;

    const groups = await costs(open(s), usage('2026-11-01', '2026-12-01'));

    // 96 vCPUs for the 120 hours since Nov 17 06:00; 8 untracked for the 510 hours.
    const vcpuHours = expectedVcpuHours(s, '2026-11-01', '2026-12-01', NOW.getTime()) + 8 * 510;
    expect(vcpuHours).toBe(512 * 510 + 96 * 120 + 8 * 510);
    expect(groups[HYBRID_USAGE]?.quantity).toBeCloseTo(vcpuHours, 6);
    expect(groups[HYBRID_USAGE]?.usd).toBeCloseTo(vcpuHours * 0.1099, 6);
  });

  it('bills a past period in full and moves with the sandbox clock', async () => {
    const estate = open();

    const firstWeek = await costs(estate, usage('2026-11-01', '2026-11-08'));
    estate.advance(24 * 3600);
    const monthAfterADay = await costs(estate, usage('2026-11-01', '2026-12-01'));

    expect(firstWeek[HYBRID_USAGE]?.quantity).toBeCloseTo(512 * 168, 6);
    expect(firstWeek[CLUSTER_USAGE]?.usd).toBeCloseTo(7 * 2.4, 6);
    const later = NOW.getTime() + 24 * HOUR;
    expect(monthAfterADay[HYBRID_USAGE]?.quantity).toBeCloseTo(
      expectedVcpuHours(estate.seed, '2026-11-01', '2026-12-01', later),
      6,
    );
    expect(monthAfterADay[HYBRID_USAGE]?.quantity).toBeCloseTo(512 * 534, 6);
    expect(monthAfterADay[CLUSTER_USAGE]?.quantity).toBeCloseTo(534, 6);
  });

  it('reports nothing for a service without usage; every service ORed in a filter, or unfiltered', async () => {
    const s = seed();
    s.costExplorer!.otherUsage.push({ service: S3_SERVICE, usageType: S3_USAGE, usdPerDay: 0.24 });
    const estate = open(s);
    const ec2 = { Dimensions: { Key: 'SERVICE' as const, Values: ['Amazon Elastic Compute Cloud - Compute'] } };
    const both = { Dimensions: { Key: 'SERVICE' as const, Values: [EKS_SERVICE, S3_SERVICE] } };

    const answer = await estate.clients().ce.send(new GetCostAndUsageCommand(usage('2026-11-01', '2026-12-01', ec2)));
    const { Filter: _none, ...unfiltered } = usage('2026-11-01', '2026-12-01');
    const all = await costs(estate, unfiltered);
    const ored = await costs(estate, usage('2026-11-01', '2026-12-01', both));
    const eks = await costs(estate, usage('2026-11-01', '2026-12-01'));

    expect(answer.ResultsByTime).toEqual([
      {
        TimePeriod: { Start: '2026-11-01', End: '2026-12-01' },
        Total: {},
        Groups: [],
        Estimated: true,
      },
    ]);
    expect(Object.keys(all)).toEqual([HYBRID_USAGE, CLUSTER_USAGE, S3_USAGE]);
    expect(ored).toEqual(all);
    expect(Object.keys(eks)).toEqual([HYBRID_USAGE, CLUSTER_USAGE]);
    expect(all[S3_USAGE]?.usd).toBeCloseTo((510 * 0.24) / 24, 6);
  });

  it('refuses, as not simulated, a filter on anything but SERVICE', async () => {
    const region = { Dimensions: { Key: 'REGION' as const, Values: ['ap-northeast-2'] } };

    await expect(
      open()
        .clients()
        .ce.send(new GetCostAndUsageCommand(usage('2026-11-01', '2026-12-01', region))),
    ).rejects.toBeInstanceOf(SandboxNotImplementedError);
  });

  it.each([
    ['ends when it starts', '2026-11-10', '2026-11-10', 'Start date should be before end date.'],
    ['ends before it starts', '2026-11-10', '2026-11-01', 'Start date should be before end date.'],
    ['starts after today', '2026-11-23', '2026-11-30', 'The start date is in the future.'],
    ['is not dates', 'yesterday', '2026-11-1', 'TimePeriod Start and End must be dates (YYYY-MM-DD).'],
  ])('answers ValidationException for a period that %s', async (_what, start, end, message) => {
    await expect(
      open()
        .clients()
        .ce.send(new GetCostAndUsageCommand(usage(start, end))),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message,
    });
  });

  it('forecasts the rest of the month at the hourly rate of the Nodes that exist now and the fixed usage', async () => {
    const estate = open();

    const answer = await estate.clients().ce.send(
      new GetCostForecastCommand({
        TimePeriod: { Start: '2026-11-23', End: '2026-12-01' },
        Metric: 'UNBLENDED_COST',
        Granularity: 'MONTHLY',
        Filter: eksFilter,
      }),
    );

    const vcpus = estate.seed.fleet.filter((f) => f.node).reduce((sum, f) => sum + f.vcpus, 0);
    const perHour = vcpus * 0.1099 + 2.4 / 24;
    expect(vcpus).toBe(512);
    expect(answer.Total?.Unit).toBe('USD');
    expect(Number(answer.Total?.Amount)).toBeCloseTo(perHour * 192, 6);
    expect(Number(answer.Total?.Amount)).toBeCloseTo(10822.8096, 6);
    expect(answer.ForecastResultsByTime).toEqual([
      { TimePeriod: { Start: '2026-11-23', End: '2026-12-01' }, MeanValue: answer.Total?.Amount },
    ]);
  });

  it('forecasts nothing for another service', async () => {
    const answer = await open()
      .clients()
      .ce.send(
        new GetCostForecastCommand({
          TimePeriod: { Start: '2026-11-23', End: '2026-12-01' },
          Metric: 'UNBLENDED_COST',
          Granularity: 'MONTHLY',
          Filter: { Dimensions: { Key: 'SERVICE', Values: ['Amazon Simple Storage Service'] } },
        }),
      );

    expect(answer.Total).toEqual({ Amount: '0', Unit: 'USD' });
  });

  it('answers DataUnavailableException to a forecast when the seed says the account has no history', async () => {
    const s = seed();
    s.costExplorer!.forecast = false;

    const forecast = open(s)
      .clients()
      .ce.send(
        new GetCostForecastCommand({
          TimePeriod: { Start: '2026-11-23', End: '2026-12-01' },
          Metric: 'UNBLENDED_COST',
          Granularity: 'MONTHLY',
          Filter: eksFilter,
        }),
      );

    await expect(forecast).rejects.toBeInstanceOf(DataUnavailableException);
    await expect(forecast).rejects.toMatchObject({
      message: 'Insufficient amount of historical data to generate forecast.',
    });
  });

  it('answers AccessDeniedException when the seed has no Cost Explorer', async () => {
    const s = seed();
    delete s.costExplorer;

    await expect(
      open(s)
        .clients()
        .ce.send(new GetCostAndUsageCommand(usage('2026-11-01', '2026-12-01'))),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('sandbox Cost Explorer GetDimensionValues', () => {
  const withS3 = () => {
    const s = seed();
    s.costExplorer!.otherUsage.push({ service: S3_SERVICE, usageType: S3_USAGE, usdPerDay: 0.24 });
    return s;
  };
  const request = (dimension: 'SERVICE' | 'USAGE_TYPE', extra: Partial<GetDimensionValuesRequest> = {}) => ({
    TimePeriod: { Start: '2026-10-01', End: '2026-11-22' },
    Dimension: dimension,
    Context: 'COST_AND_USAGE' as const,
    ...extra,
  });
  const eksOnly = { Filter: { Dimensions: { Key: 'SERVICE' as const, Values: [EKS_SERVICE] } } };

  it('lists the services with usage in the period, sorted, with the sizes the model gives', async () => {
    const answer = await open(withS3())
      .clients()
      .ce.send(new GetDimensionValuesCommand(request('SERVICE')));

    expect(answer).toEqual({
      $metadata: expect.anything(),
      DimensionValues: [
        { Value: EKS_SERVICE, Attributes: {} },
        { Value: S3_SERVICE, Attributes: {} },
      ],
      ReturnSize: 2,
      TotalSize: 2,
    });
    expect(answer.NextPageToken).toBeUndefined();
  });

  it("lists a service's usage types: exactly those GetCostAndUsage bills under it", async () => {
    const estate = open(withS3());
    const ce = estate.clients().ce;

    const listed = await ce.send(new GetDimensionValuesCommand(request('USAGE_TYPE', eksOnly)));
    const billed = await ce.send(
      new GetCostAndUsageCommand({
        TimePeriod: { Start: '2026-10-01', End: '2026-11-22' },
        Granularity: 'MONTHLY',
        Metrics: ['UnblendedCost'],
        Filter: eksOnly.Filter,
        GroupBy: [{ Type: 'DIMENSION', Key: 'USAGE_TYPE' }],
      }),
    );

    const values = listed.DimensionValues?.map((v) => v.Value);
    expect(values).toEqual([CLUSTER_USAGE, HYBRID_USAGE]);
    expect([...(billed.ResultsByTime?.[0]?.Groups ?? []).map((g) => g.Keys?.[0])].sort()).toEqual(values);
  });

  it('leaves out a usage type with no usage in the period: no Node billed before it joined', async () => {
    // The seeded Nodes joined 45 to 90 days before NOW (late August at the earliest).
    const answer = await open()
      .clients()
      .ce.send(
        new GetDimensionValuesCommand({
          ...request('USAGE_TYPE', eksOnly),
          TimePeriod: { Start: '2026-07-01', End: '2026-08-01' },
        }),
      );

    expect(answer.DimensionValues?.map((v) => v.Value)).toEqual([CLUSTER_USAGE]);
  });

  it("pages by the seed's page size, each token good for the request it came from", async () => {
    const s = withS3();
    s.costExplorer!.dimensionValuesPageSize = 1;
    const ce = open(s).clients().ce;

    const first = await ce.send(new GetDimensionValuesCommand(request('SERVICE')));
    const second = await ce.send(
      new GetDimensionValuesCommand({ ...request('SERVICE'), NextPageToken: first.NextPageToken }),
    );

    expect(first).toMatchObject({ DimensionValues: [{ Value: EKS_SERVICE }], ReturnSize: 1, TotalSize: 2 });
    expect(first.NextPageToken).toEqual(expect.any(String));
    expect(second).toMatchObject({ DimensionValues: [{ Value: S3_SERVICE }], ReturnSize: 1, TotalSize: 2 });
    expect(second.NextPageToken).toBeUndefined();
    await expect(
      ce.send(new GetDimensionValuesCommand({ ...request('USAGE_TYPE'), NextPageToken: first.NextPageToken })),
    ).rejects.toBeInstanceOf(RequestChangedException);
    await expect(
      ce.send(new GetDimensionValuesCommand({ ...request('SERVICE'), NextPageToken: 'not-a-token' })),
    ).rejects.toBeInstanceOf(InvalidNextTokenException);
  });

  it.each([
    ['another dimension', { Dimension: 'REGION' as const }],
    ['another context', { Context: 'RESERVATIONS' as const }],
    ['a SearchString (its matching is not documented)', { SearchString: 'Kubernetes' }],
  ])('refuses %s as not simulated', async (_what, extra) => {
    await expect(
      open()
        .clients()
        .ce.send(new GetDimensionValuesCommand({ ...request('SERVICE'), ...extra })),
    ).rejects.toBeInstanceOf(SandboxNotImplementedError);
  });

  it('answers ValidationException for a period that is not one', async () => {
    await expect(
      open()
        .clients()
        .ce.send(
          new GetDimensionValuesCommand({
            ...request('SERVICE'),
            TimePeriod: { Start: '2026-11-22', End: '2026-11-22' },
          }),
        ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'Start date should be before end date.' });
  });
});

describe('sandbox S3', () => {
  const BUCKET = sandboxStoreBucket(ACCOUNT);

  it('is one bucket named for the account', () => {
    expect(BUCKET).toBe('eks-hybrid-ops-sandbox-store-111122223333');
  });

  it('gives back the object that was put, as JSON, and keeps it in the estate', async () => {
    const estate = open();
    const s3 = estate.clients().s3;
    const key = 'runs/20261122T060000Z-a1b2c3/inventory.json';

    const put = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{"nodes":3}', ContentType: 'application/json' }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));

    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(got.ContentType).toBe('application/json');
    expect(got.ContentLength).toBe(11);
    await expect(got.Body?.transformToString('utf8')).resolves.toBe('{"nodes":3}');
    expect(estate.state.objects[BUCKET]).toEqual({ [key]: '{"nodes":3}' });
  });

  it('takes a byte body, and replaces an object put again', async () => {
    const s3 = open().clients().s3;

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k.json', Body: '"first"' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k.json', Body: new TextEncoder().encode('"second"') }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k.json' }));

    await expect(got.Body?.transformToString()).resolves.toBe('"second"');
  });

  it('serves the sweep store: what it writes it reads back, and a missing key reads as undefined', async () => {
    const store = s3Store(open().clients().s3, BUCKET);

    await store.putJson('alert-memory.json', { findings: [{ id: 'a', since: '2026-11-20' }] });

    await expect(store.getJson('alert-memory.json')).resolves.toEqual({ findings: [{ id: 'a', since: '2026-11-20' }] });
    await expect(store.getJson('runs/none/report.json')).resolves.toBeUndefined();
  });

  it('answers NoSuchKey for a key never put', async () => {
    const get = open()
      .clients()
      .s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'nothing.json' }));

    await expect(get).rejects.toBeInstanceOf(NoSuchKey);
  });

  it('answers NoSuchBucket for any other bucket, for a put as for a get', async () => {
    const estate = open();
    const s3 = estate.clients().s3;
    const other = 'eks-hybrid-ops-sandbox-store-999999999999';

    await expect(s3.send(new PutObjectCommand({ Bucket: other, Key: 'k', Body: '{}' }))).rejects.toBeInstanceOf(
      NoSuchBucket,
    );
    await expect(s3.send(new GetObjectCommand({ Bucket: other, Key: 'k' }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
      message: `The specified bucket does not exist: ${other}`,
    });
    expect(estate.state.objects[other]).toBeUndefined();
  });
});

describe('sandbox EKS ListInsights', () => {
  /** The seed's two passing insights and three that are not. */
  function insightSeed(): EstateSeed {
    const s = seed();
    s.clusters[0]!.insights.push(
      {
        id: 'w-1',
        name: 'Hybrid node pod network',
        category: 'MISCONFIGURATION',
        status: 'WARNING',
        reason: 'overlap',
      },
      { id: 'e-1', name: 'Deprecated APIs', category: 'UPGRADE_READINESS', status: 'ERROR' },
      { id: 'u-1', name: 'Kube-proxy skew', category: 'MISCONFIGURATION', status: 'UNKNOWN' },
    );
    return s;
  }
  const ids = async (estate: SandboxEstate, input: ListInsightsRequest) =>
    (await estate.clients().eks.send(new ListInsightsCommand(input))).insights?.map((i) => i.id);
  const PASSING_1 = '5c8e0c1d-0000-4000-8000-00000000a001';
  const PASSING_2 = '5c8e0c1d-0000-4000-8000-00000000a002';

  it('lists every insight of the cluster without a filter', async () => {
    expect(await ids(open(insightSeed()), { clusterName: CLUSTER })).toEqual([
      PASSING_1,
      PASSING_2,
      'w-1',
      'e-1',
      'u-1',
    ]);
  });

  it('keeps the insights of the statuses asked for', async () => {
    const estate = open(insightSeed());

    expect(await ids(estate, { clusterName: CLUSTER, filter: { statuses: ['WARNING', 'ERROR', 'UNKNOWN'] } })).toEqual([
      'w-1',
      'e-1',
      'u-1',
    ]);
    expect(await ids(estate, { clusterName: CLUSTER, filter: { statuses: ['PASSING'] } })).toEqual([
      PASSING_1,
      PASSING_2,
    ]);
  });

  it('keeps the insights of the categories asked for, and both filters must hold', async () => {
    const estate = open(insightSeed());

    expect(await ids(estate, { clusterName: CLUSTER, filter: { categories: ['UPGRADE_READINESS'] } })).toEqual([
      PASSING_2,
      'e-1',
    ]);
    expect(
      await ids(estate, {
        clusterName: CLUSTER,
        filter: { categories: ['MISCONFIGURATION'], statuses: ['WARNING', 'ERROR', 'UNKNOWN'] },
      }),
    ).toEqual(['w-1', 'u-1']);
  });

  it('answers each insight as EKS summarizes it', async () => {
    const answer = await open(insightSeed())
      .clients()
      .eks.send(new ListInsightsCommand({ clusterName: CLUSTER, filter: { statuses: ['WARNING'] } }));

    expect(answer.insights).toEqual([
      {
        id: 'w-1',
        name: 'Hybrid node pod network',
        category: 'MISCONFIGURATION',
        kubernetesVersion: '1.33',
        insightStatus: { status: 'WARNING', reason: 'overlap' },
        lastRefreshTime: NOW,
      },
    ]);
    expect(answer.nextToken).toBeUndefined();
  });

  it('pages by maxResults with a nextToken', async () => {
    const eks = open(insightSeed()).clients().eks;

    const first = await eks.send(new ListInsightsCommand({ clusterName: CLUSTER, maxResults: 2 }));
    const second = await eks.send(
      new ListInsightsCommand({ clusterName: CLUSTER, maxResults: 2, nextToken: first.nextToken }),
    );
    const third = await eks.send(
      new ListInsightsCommand({ clusterName: CLUSTER, maxResults: 2, nextToken: second.nextToken }),
    );

    expect([first, second, third].map((p) => p.insights?.map((i) => i.id))).toEqual([
      [PASSING_1, PASSING_2],
      ['w-1', 'e-1'],
      ['u-1'],
    ]);
    expect(first.nextToken).toEqual(expect.any(String));
    expect(third.nextToken).toBeUndefined();
  });

  it('answers ResourceNotFoundException for a cluster the estate does not have', async () => {
    await expect(
      open()
        .clients()
        .eks.send(new ListInsightsCommand({ clusterName: 'no-such-cluster' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('sandbox SSM DescribeInstanceInformation', () => {
  /**
   * The seed's fleet with gpu-node-13's agent lost, plus a server onboarded by hand (untagged), an
   * orphan whose Node is gone, and a server of another cluster.
   */
  function fleetSeed(): EstateSeed {
    const s = seed();
    const base = s.fleet[0]!;
    s.fleet[1]!.pingStatus = 'ConnectionLost';
    s.fleet.push(
      { ...base, name: 'cpu-node-05', instanceId: 'mi-0a2b4c6d8e0f12345', ip: '192.168.10.25', ours: false },
      { ...base, name: 'gpu-node-06', instanceId: 'mi-0a2b4c6d8e0f12346', ip: '192.168.10.26', node: false },
      {
        ...base,
        name: 'edge-node-01',
        instanceId: 'mi-0a2b4c6d8e0f12347',
        ip: '192.168.50.11',
        cluster: 'edge-cluster',
      },
    );
    return s;
  }
  const MI_05 = 'mi-0a2b4c6d8e0f12345';
  const MI_06 = 'mi-0a2b4c6d8e0f12346';
  const MI_07 = 'mi-0a2b4c6d8e0f12347';
  const ids = async (estate: SandboxEstate, filters: InstanceInformationStringFilter[]) =>
    (
      await estate.clients().ssm.send(new DescribeInstanceInformationCommand({ Filters: filters }))
    ).InstanceInformationList?.map((i) => i.InstanceId);

  it('lists every managed instance for ResourceType ManagedInstance', async () => {
    expect(await ids(open(fleetSeed()), [{ Key: 'ResourceType', Values: ['ManagedInstance'] }])).toEqual([
      MI_02,
      MI_03,
      MI_04,
      MI_05,
      MI_06,
      MI_07,
    ]);
  });

  it("keeps the instances tagged with the cluster's ARN, and those with a tag key, both when both are asked", async () => {
    const estate = open(fleetSeed());
    const byArn = { Key: 'tag:EKSClusterARN', Values: [CLUSTER_ARN] };
    const byKey = { Key: 'tag-key', Values: ['hybridops:request-id'] };

    expect(await ids(estate, [byArn])).toEqual([MI_02, MI_03, MI_04, MI_06]);
    expect(await ids(estate, [{ Key: 'tag:EKSClusterARN', Values: [EDGE_ARN] }])).toEqual([MI_07]);
    expect(await ids(estate, [byKey])).toEqual([MI_02, MI_03, MI_04, MI_06, MI_07]);
    expect(await ids(estate, [{ Key: 'tag-key', Values: ['owner'] }])).toEqual([]);
    expect(await ids(estate, [byArn, byKey])).toEqual([MI_02, MI_03, MI_04, MI_06]);
  });

  it('answers ValidationException to tag filters mixed with another filter, as SSM does', async () => {
    const estate = open(fleetSeed());
    const byArn = { Key: 'tag:EKSClusterARN', Values: [CLUSTER_ARN] };

    await expect(ids(estate, [byArn, { Key: 'ResourceType', Values: ['ManagedInstance'] }])).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Cannot mix tag or inventory filter with any other filter.',
    });
  });

  it('keeps the instances of a ping status, Online when the seed says nothing', async () => {
    const estate = open(fleetSeed());

    expect(await ids(estate, [{ Key: 'PingStatus', Values: ['ConnectionLost'] }])).toEqual([MI_03]);
    expect(await ids(estate, [{ Key: 'PingStatus', Values: ['Online'] }])).toEqual([MI_02, MI_04, MI_05, MI_06, MI_07]);
  });

  it('keeps the instances that registered with the activations asked for', async () => {
    expect(
      await ids(open(fleetSeed()), [{ Key: 'ActivationIds', Values: ['seeded-gpu-node-12', 'seeded-cpu-node-05'] }]),
    ).toEqual([MI_02, MI_05]);
  });

  it('answers InvalidFilterKey for a key SSM does not filter by', async () => {
    await expect(
      open()
        .clients()
        .ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Platform', Values: ['Linux'] }] })),
    ).rejects.toBeInstanceOf(InvalidFilterKey);
  });

  it('answers pages of MaxResults, each with the NextToken of the next, the last without one', async () => {
    const ssm = open(fleetSeed()).clients().ssm;
    const Filters = [{ Key: 'ResourceType', Values: ['ManagedInstance'] }];

    const first = await ssm.send(new DescribeInstanceInformationCommand({ Filters, MaxResults: 5 }));
    const second = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters, MaxResults: 5, NextToken: first.NextToken }),
    );

    expect(first.InstanceInformationList?.map((i) => i.InstanceId)).toEqual([MI_02, MI_03, MI_04, MI_05, MI_06]);
    expect(first.NextToken).toEqual(expect.any(String));
    expect(second.InstanceInformationList?.map((i) => i.InstanceId)).toEqual([MI_07]);
    expect(second.NextToken).toBeUndefined();
  });

  it('describes a seeded instance as SSM does, with the lost agent reporting ConnectionLost', async () => {
    const answer = await open(fleetSeed())
      .clients()
      .ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'PingStatus', Values: ['ConnectionLost'] }] }),
      );

    expect(answer.InstanceInformationList).toEqual([
      {
        InstanceId: MI_03,
        ActivationId: 'seeded-gpu-node-13',
        Name: 'gpu-node-13',
        IPAddress: '192.168.10.33',
        PlatformName: 'Ubuntu',
        PlatformVersion: '22.04',
        PlatformType: 'Linux',
        ResourceType: 'ManagedInstance',
        RegistrationDate: new Date(NOW.getTime() - 45 * 24 * HOUR),
        PingStatus: 'ConnectionLost',
        LastPingDateTime: new Date(NOW.getTime() - 30 * HOUR),
      },
    ]);
  });
});

describe('the seeded fleet and activations', () => {
  const access = { name: CLUSTER, region: 'ap-northeast-2', endpoint: 'https://sandbox', certificateAuthority: 'CA' };
  async function listNodes(estate: SandboxEstate) {
    const nodes = [];
    for await (const page of sandboxKubeApi(estate)(access).listHybridNodes()) nodes.push(...page);
    return nodes;
  }

  it('has a Node per fleet server, the NotReady one False since notReadyForHours ago', async () => {
    const estate = open();
    const notReady = estate.seed.fleet.find((f) => f.notReadyForHours !== undefined);

    const nodes = await listNodes(estate);

    expect(notReady).toMatchObject({ instanceId: MI_03, notReadyForHours: 30 });
    expect(nodes.map((n) => n.name)).toEqual([MI_02, MI_03, MI_04]);
    const node03 = nodes.find((n) => n.name === MI_03);
    expect(node03?.ready).toEqual({
      status: 'False',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      since: new Date(NOW.getTime() - (notReady?.notReadyForHours ?? 0) * HOUR).toISOString(),
    });
    expect(node03?.ready?.since).toBe('2026-11-21T00:00:00.000Z');
    expect(node03).toMatchObject({ internalIps: ['192.168.10.33'], capacity: { cpu: '224', gpu: '8' } });
  });

  it('has the other Nodes Ready since they joined, with their vCPUs as capacity', async () => {
    const nodes = await listNodes(open());

    expect(nodes.find((n) => n.name === MI_02)).toMatchObject({
      ready: { status: 'True', reason: 'KubeletReady', since: new Date(NOW.getTime() - 60 * 24 * HOUR).toISOString() },
      capacity: { cpu: '224', gpu: '8' },
      createdAt: '2026-09-23T06:00:00.000Z',
      labels: { 'eks.amazonaws.com/compute-type': 'hybrid', 'kubernetes.io/hostname': MI_02 },
    });
    expect(nodes.find((n) => n.name === MI_04)).toMatchObject({
      ready: { status: 'True' },
      capacity: { cpu: '64' },
      internalIps: ['192.168.10.34'],
    });
  });

  it('gives no Node to a server whose Node is gone, and no tags to one not onboarded by this project', async () => {
    const s = seed();
    s.fleet[0]!.node = false;
    s.fleet[2]!.ours = false;
    const estate = open(s);

    const nodes = await listNodes(estate);

    expect(nodes.map((n) => n.name)).toEqual([MI_03, MI_04]);
    expect(estate.state.instances[MI_02]?.tags).toEqual([
      { Key: 'EKSClusterARN', Value: CLUSTER_ARN },
      { Key: 'hybridops:request-id', Value: 'gpu-node-12-seeded' },
      { Key: 'hybridops:node-name', Value: 'gpu-node-12' },
    ]);
    expect(estate.state.instances[MI_04]?.tags).toEqual([]);
  });

  it('reports the seeded activation that expired two days ago as Expired, tagged for its cluster', async () => {
    const answer = await open()
      .clients()
      .ssm.send(
        new DescribeActivationsCommand({
          Filters: [{ FilterKey: 'IamRole', FilterValues: ['AmazonEKSHybridNodesRole'] }],
        }),
      );

    expect(answer.ActivationList).toEqual([
      {
        ActivationId: EXPIRED_ACTIVATION,
        DefaultInstanceName: 'gpu-node-07',
        IamRole: 'AmazonEKSHybridNodesRole',
        RegistrationLimit: 1,
        RegistrationsCount: 0,
        ExpirationDate: new Date(NOW.getTime() - 48 * HOUR),
        Expired: true,
        CreatedDate: new Date(NOW.getTime() - 72 * HOUR),
        Tags: [
          { Key: 'EKSClusterARN', Value: CLUSTER_ARN },
          { Key: 'hybridops:request-id', Value: 'gpu-node-07-seeded' },
          { Key: 'hybridops:node-name', Value: 'gpu-node-07' },
        ],
      },
    ]);
  });

  it('reports a seeded activation as Expired only once the sandbox clock passes its expiry', async () => {
    const s = seed();
    s.activations = [
      {
        id: 'live',
        cluster: CLUSTER,
        defaultInstanceName: 'gpu-node-08',
        expiresInHours: 12,
        registrationsCount: 0,
        registrationLimit: 1,
      },
    ];
    const estate = open(s);
    const describe = async () =>
      (await estate.clients().ssm.send(new DescribeActivationsCommand({}))).ActivationList?.map((a) => a.Expired);

    const before = await describe();
    estate.advance(12 * 3600 + 1);
    const after = await describe();

    expect(before).toEqual([false]);
    expect(after).toEqual([true]);
  });
});
