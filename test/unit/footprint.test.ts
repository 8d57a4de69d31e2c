import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_MODEL,
  fixedBill,
  type Measured,
  monthlyUsage,
  NO_USAGE,
  parsePrices,
  type PricesFile,
  sweepAt,
  totalUsd,
  type Usage,
  variableBill,
} from '#lib/footprint';

const usage = (part: Partial<Usage>): Usage => ({ ...NO_USAGE, ...part });
const GB = 1024 ** 3;

/** Round prices so the expected figures can be worked out by hand. */
const prices = (): PricesFile => {
  const p = (usd: number, per: number) => ({
    usd,
    per,
    unit: 'u',
    region: 'ap-northeast-2',
    source: 'https://aws.amazon.com/',
  });
  return {
    checked: '2026-12-01',
    region: 'ap-northeast-2',
    prices: {
      stepFunctionsTransition: p(0.025, 1000),
      lambdaRequest: p(0.2, 1_000_000),
      lambdaArmGbSecond: p(0.00001, 1),
      apiGatewayRestRequest: p(3.5, 1_000_000),
      snsPublish: p(0.5, 1_000_000),
      snsEmail: p(2, 100_000),
      s3Write: p(0.005, 1000),
      s3Read: p(0.0004, 1000),
      s3GbMonth: p(0.025, 1),
      costExplorerRequest: p(0.01, 1),
      logsIngestedGb: p(0.5, 1),
      logsStoredGbMonth: p(0.03, 1),
      xrayTrace: p(5, 1_000_000),
      customMetricMonth: p(0.3, 1),
      alarmMonth: p(0.1, 1),
      dashboardMonth: p(3, 1),
    },
  };
};

const measured = (): Measured => ({
  onboarding: usage({ transitions: 30, apiRequests: 2, snsPublishes: 1 }),
  offboarding: usage({ transitions: 20, apiRequests: 1, snsPublishes: 1 }),
  statusPoll: usage({ apiRequests: 1, lambdaRequests: 1 }),
  reconcile: usage({ transitions: 10, s3Writes: 2 }),
  sweep: { 10: usage({ transitions: 40, ceRequests: 2 }), 100: usage({ transitions: 130, ceRequests: 2 }) },
});

describe('the footprint: a month of the tool at N nodes', () => {
  it('scales onboardings, offboardings and their polls with the nodes, the reconcile with the hours', () => {
    const model = {
      ...DEFAULT_MODEL,
      onboardingsPerNodePerMonth: 0.1,
      offboardingsPerNodePerMonth: 0.05,
      statusPollsPerRequest: 10,
      reconcilesPerHour: 1,
      sweepsPerMonth: 30,
      emailSubscribers: 2,
    };
    const month = monthlyUsage(measured(), model, 100);
    // 10 onboardings, 5 offboardings, 150 polls, 730 reconciles, 30 sweeps of 100 nodes.
    expect(month.transitions).toBeCloseTo(10 * 30 + 5 * 20 + 730 * 10 + 30 * 130);
    expect(month.apiRequests).toBeCloseTo(10 * 2 + 5 * 1 + 150);
    expect(month.lambdaRequests).toBeCloseTo(150);
    expect(month.ceRequests).toBeCloseTo(60);
    expect(month.snsPublishes).toBeCloseTo(15);
    expect(month.snsEmails).toBeCloseTo(30);
    expect(month.s3Writes).toBeCloseTo(1460);
  });

  it("prices the month's first sweep as measured on the 1st (discovering the Cost Explorer names), the others as cached nights", () => {
    const model = { ...DEFAULT_MODEL, sweepsPerMonth: 30 };
    const firstNight = { 10: usage({ ceRequests: 3 }), 100: usage({ ceRequests: 3 }) };
    const month = monthlyUsage({ ...measured(), sweepFirstNight: firstNight }, model, 100);
    // One night of 3 requests, 29 of 2.
    expect(month.ceRequests).toBeCloseTo(3 + 29 * 2);
  });

  it('does not grow the reconcile with the nodes', () => {
    const at = (nodes: number) =>
      monthlyUsage({ ...measured(), sweep: { 10: NO_USAGE, 100: NO_USAGE } }, DEFAULT_MODEL, nodes);
    expect(at(1000).s3Writes).toBe(at(10).s3Writes);
  });

  it('uses the sweep measured at a size, and scales linearly between and beyond the sizes measured', () => {
    const sweep = measured().sweep;
    expect(sweepAt(sweep, 10).transitions).toBe(40);
    expect(sweepAt(sweep, 55).transitions).toBeCloseTo(85);
    expect(sweepAt(sweep, 1000).transitions).toBeCloseTo(1030);
    expect(() => sweepAt({ 10: NO_USAGE }, 100)).toThrow(/two measured sizes/);
  });

  it('prices each line at its list price per unit, storage for the months it is kept', () => {
    const lines = variableBill(
      usage({
        transitions: 40_000,
        costExplorerRequest: 0,
        ceRequests: 60,
        s3Bytes: 2 * GB,
        logBytes: GB,
      } as Partial<Usage>),
      { ...DEFAULT_MODEL, s3RetentionDays: 730 / 24, logRetentionDays: 730 / 12 },
      prices(),
    );
    const usd = (item: string) => lines.find((l) => l.item.startsWith(item))?.usd;
    expect(usd('Step Functions')).toBeCloseTo(1.0);
    expect(usd('Cost Explorer')).toBeCloseTo(0.6);
    expect(usd('S3 storage')).toBeCloseTo(0.05);
    expect(usd('CloudWatch Logs ingested')).toBeCloseTo(0.5);
    expect(usd('CloudWatch Logs stored')).toBeCloseTo(0.06);
    expect(totalUsd(lines)).toBeCloseTo(2.21);
  });

  it("lists CloudWatch's fixed items apart", () => {
    const lines = fixedBill({ customMetrics: 20, alarms: 10, dashboards: 1 }, prices());
    expect(lines.map((l) => l.usd)).toEqual([6, 1, 3].map((n) => expect.closeTo(n)));
  });
});

describe('bench/prices.json', () => {
  const file = () => JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'prices.json'), 'utf8'));

  it('has every price the bill needs, each with its unit, Region, https source, and the date checked', () => {
    expect(() => parsePrices(file())).not.toThrow();
  });

  it("prices Step Functions at Seoul's rate and Lambda at arm64's, as serverless.yml deploys", () => {
    const { prices: p } = parsePrices(file());
    expect(p.stepFunctionsTransition).toMatchObject({ usd: 0.0271, per: 1000, region: 'ap-northeast-2' });
    expect(p.lambdaArmGbSecond.usd).toBe(0.0000133334);
    expect(readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8')).toMatch(/^ {2}architecture: arm64$/m);
  });

  it('refuses a price without its source, saying which', () => {
    const raw = file();
    delete raw.prices.snsEmail.source;
    delete raw.prices.xrayTrace;
    expect(() => parsePrices(raw)).toThrow(/prices\.snsEmail needs its source.*prices\.xrayTrace is missing/);
  });
});
