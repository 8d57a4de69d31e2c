/**
 * The tool's own AWS bill: usage measured on the sandbox, scaled by an operating model to a
 * month at N nodes, priced from bench/prices.json. Pure arithmetic, so the bench's table can be
 * checked by unit tests; the measuring is scripts/bench-footprint.ts's.
 */
import { HOURS_PER_MONTH } from './pricing';

/** What AWS bills for, summed over some executions and API requests. */
export interface Usage {
  /** Step Functions Standard state transitions (retries included). */
  transitions: number;
  lambdaRequests: number;
  /** Lambda duration at each function's configured memory (arm64). */
  lambdaGbSeconds: number;
  /** API Gateway REST requests. */
  apiRequests: number;
  snsPublishes: number;
  /** Email deliveries: each publish, once per email subscriber. */
  snsEmails: number;
  /** S3 PUT, COPY, POST and LIST requests. */
  s3Writes: number;
  /** S3 GET (and HEAD) requests. */
  s3Reads: number;
  /** Bytes written to S3 (kept until the bucket's lifecycle expires them). */
  s3Bytes: number;
  /** Cost Explorer API requests (each page is one). */
  ceRequests: number;
  /** Bytes written to CloudWatch Logs. */
  logBytes: number;
  /** X-Ray traces recorded: one per execution and per API request. */
  traces: number;
}

export const NO_USAGE: Usage = {
  transitions: 0,
  lambdaRequests: 0,
  lambdaGbSeconds: 0,
  apiRequests: 0,
  snsPublishes: 0,
  snsEmails: 0,
  s3Writes: 0,
  s3Reads: 0,
  s3Bytes: 0,
  ceRequests: 0,
  logBytes: 0,
  traces: 0,
};

const keys = Object.keys(NO_USAGE) as Array<keyof Usage>;

export const addUsage = (a: Usage, b: Usage): Usage =>
  Object.fromEntries(keys.map((k) => [k, a[k] + b[k]])) as unknown as Usage;

export const scaleUsage = (u: Usage, times: number): Usage =>
  Object.fromEntries(keys.map((k) => [k, u[k] * times])) as unknown as Usage;

/** How the tool is used in a month. Stated in the bench report next to the table. */
export interface OperatingModel {
  /** Onboardings per node per month (joins, re-joins after a reinstall, failed attempts). */
  onboardingsPerNodePerMonth: number;
  /** Offboardings per node per month. */
  offboardingsPerNodePerMonth: number;
  /** GET polls of a request's status per onboarding or offboarding (a `--wait` client). */
  statusPollsPerRequest: number;
  /** Scheduled reconcile-network runs per hour (serverless.yml reconcileSchedule). */
  reconcilesPerHour: number;
  /** Nightly sweeps per month (serverless.yml sweepSchedule: one a night). */
  sweepsPerMonth: number;
  /** Email subscribers of the alert topic. */
  emailSubscribers: number;
  /** How long written objects stay: S3 lifecycle and log retention, in days (serverless.yml). */
  s3RetentionDays: number;
  logRetentionDays: number;
}

export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

export const DEFAULT_MODEL: OperatingModel = {
  onboardingsPerNodePerMonth: 0.1,
  offboardingsPerNodePerMonth: 0.05,
  statusPollsPerRequest: 30,
  reconcilesPerHour: 1,
  sweepsPerMonth: DAYS_PER_MONTH,
  emailSubscribers: 1,
  s3RetentionDays: 30,
  logRetentionDays: 30,
};

/** Usage measured on the sandbox: one of each, and the sweep at the fleet sizes it ran. */
export interface Measured {
  /** One onboarding: POST /nodes, its execution, the team's NodeConfig fetch. */
  onboarding: Usage;
  /** One offboarding: DELETE /nodes/{node} and its execution. */
  offboarding: Usage;
  /** One GET of a request's status. */
  statusPoll: Usage;
  /** One scheduled reconcile-network run. */
  reconcile: Usage;
  /** One nightly sweep on a night with the month's Cost Explorer names kept, by the number of nodes it swept. */
  sweep: Record<number, Usage>;
  /**
   * The sweep on the first night of a month, which discovers the Cost Explorer names again (and
   * asks no month to date), by nodes; without it every night is priced as `sweep`.
   */
  sweepFirstNight?: Record<number, Usage>;
}

/** The sweep's usage at `nodes`: measured there, or linear between the two nearest sizes measured. */
export function sweepAt(sweep: Record<number, Usage>, nodes: number): Usage {
  const sizes = Object.keys(sweep)
    .map(Number)
    .sort((a, b) => a - b);
  const exact = sweep[nodes];
  if (exact) return exact;
  if (sizes.length < 2)
    throw new Error(`The sweep needs two measured sizes to scale to ${nodes} nodes; it has ${sizes.length}.`);
  // The segment that holds `nodes`, or the first or last one to extrapolate from.
  let hi = sizes.findIndex((s) => s > nodes);
  if (hi === -1) hi = sizes.length - 1;
  if (hi === 0) hi = 1;
  const a = sizes[hi - 1] as number;
  const b = sizes[hi] as number;
  const ua = sweep[a] as Usage;
  const ub = sweep[b] as Usage;
  const t = (nodes - a) / (b - a);
  return Object.fromEntries(keys.map((k) => [k, ua[k] + (ub[k] - ua[k]) * t])) as unknown as Usage;
}

/**
 * A month's usage at `nodes` nodes: onboardings and offboardings (and their status polls)
 * scale with the nodes; a reconcile run does not (it works on the declared DNS and EFS, not on
 * the nodes), and runs every hour; the sweep runs once a night and grows with the nodes: the
 * month's first night as measured on the 1st, the others as on a night with the names kept.
 */
export function monthlyUsage(measured: Measured, model: OperatingModel, nodes: number): Usage {
  const onboardings = nodes * model.onboardingsPerNodePerMonth;
  const offboardings = nodes * model.offboardingsPerNodePerMonth;
  const polls = (onboardings + offboardings) * model.statusPollsPerRequest;
  const parts = [
    scaleUsage(measured.onboarding, onboardings),
    scaleUsage(measured.offboarding, offboardings),
    scaleUsage(measured.statusPoll, polls),
    scaleUsage(measured.reconcile, model.reconcilesPerHour * HOURS_PER_MONTH),
    ...(measured.sweepFirstNight
      ? [sweepAt(measured.sweepFirstNight, nodes), scaleUsage(sweepAt(measured.sweep, nodes), model.sweepsPerMonth - 1)]
      : [scaleUsage(sweepAt(measured.sweep, nodes), model.sweepsPerMonth)]),
  ];
  const total = parts.reduce(addUsage, NO_USAGE);
  return { ...total, snsEmails: total.snsPublishes * model.emailSubscribers };
}

/** One list price: `usd` for every `per` units. */
export interface Price {
  usd: number;
  per: number;
  unit: string;
  /** The Region the price is for: ap-northeast-2, or us-east-1 where Seoul's was not confirmed. */
  region: string;
  source: string;
  note?: string;
}

export interface PricesFile {
  checked: string;
  region: string;
  prices: Record<PriceKey, Price>;
}

export type PriceKey =
  | 'stepFunctionsTransition'
  | 'lambdaRequest'
  | 'lambdaArmGbSecond'
  | 'apiGatewayRestRequest'
  | 'snsPublish'
  | 'snsEmail'
  | 's3Write'
  | 's3Read'
  | 's3GbMonth'
  | 'costExplorerRequest'
  | 'logsIngestedGb'
  | 'logsStoredGbMonth'
  | 'xrayTrace'
  | 'customMetricMonth'
  | 'alarmMonth'
  | 'dashboardMonth';

const PRICE_KEYS: PriceKey[] = [
  'stepFunctionsTransition',
  'lambdaRequest',
  'lambdaArmGbSecond',
  'apiGatewayRestRequest',
  'snsPublish',
  'snsEmail',
  's3Write',
  's3Read',
  's3GbMonth',
  'costExplorerRequest',
  'logsIngestedGb',
  'logsStoredGbMonth',
  'xrayTrace',
  'customMetricMonth',
  'alarmMonth',
  'dashboardMonth',
];

/**
 * bench/prices.json, checked: every price the bill needs, each a positive amount with its
 * unit, Region and https source, and the date they were checked. Throws saying what is wrong.
 */
export function parsePrices(raw: unknown): PricesFile {
  const file = raw as Partial<PricesFile> | null;
  const problems: string[] = [];
  if (!file || typeof file !== 'object')
    throw new Error('bench/prices.json must be an object with checked, region and prices.');
  if (typeof file.checked !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(file.checked))
    problems.push('checked must be the date the prices were checked, YYYY-MM-DD');
  if (typeof file.region !== 'string' || !file.region) problems.push("region must name the stack's Region");
  for (const key of PRICE_KEYS) {
    const p = file.prices?.[key];
    if (!p) {
      problems.push(`prices.${key} is missing`);
      continue;
    }
    if (!(p.usd > 0) || !(p.per > 0)) problems.push(`prices.${key} needs usd and per, both positive`);
    if (!p.unit || !p.region) problems.push(`prices.${key} needs its unit and region`);
    if (!/^https:\/\//.test(p.source ?? '')) problems.push(`prices.${key} needs its source, an https URL`);
  }
  if (problems.length) throw new Error(`bench/prices.json: ${problems.join('; ')}.`);
  return file as PricesFile;
}

const GB = 1024 ** 3;

/** A line of the bill: what, how much in a month, and its USD. */
export interface BillLine {
  item: string;
  price: PriceKey;
  quantity: number;
  usd: number;
}

const line = (prices: PricesFile, item: string, price: PriceKey, quantity: number): BillLine => {
  const p = prices.prices[price];
  if (!p) throw new Error(`bench/prices.json has no price '${price}'.`);
  return { item, price, quantity, usd: (quantity * p.usd) / p.per };
};

/**
 * The month's variable bill, list prices without free tiers (Step Functions' 4,000 transitions
 * and Lambda's 1M requests are free each month for ever; leaving them out keeps the figure an
 * upper bound). Stored S3 bytes and logs are the steady state: a month's writes times the
 * months they are kept.
 */
export function variableBill(usage: Usage, model: OperatingModel, prices: PricesFile): BillLine[] {
  const s3Months = model.s3RetentionDays / DAYS_PER_MONTH;
  const logMonths = model.logRetentionDays / DAYS_PER_MONTH;
  return [
    line(prices, 'Step Functions state transitions', 'stepFunctionsTransition', usage.transitions),
    line(prices, 'Lambda requests', 'lambdaRequest', usage.lambdaRequests),
    line(prices, 'Lambda GB-seconds (arm64)', 'lambdaArmGbSecond', usage.lambdaGbSeconds),
    line(prices, 'API Gateway REST requests', 'apiGatewayRestRequest', usage.apiRequests),
    line(prices, 'SNS publishes', 'snsPublish', usage.snsPublishes),
    line(prices, 'SNS email deliveries', 'snsEmail', usage.snsEmails),
    line(prices, 'S3 PUT/LIST requests', 's3Write', usage.s3Writes),
    line(prices, 'S3 GET requests', 's3Read', usage.s3Reads),
    line(prices, 'S3 storage (GB-month)', 's3GbMonth', (usage.s3Bytes / GB) * s3Months),
    line(prices, 'Cost Explorer API requests', 'costExplorerRequest', usage.ceRequests),
    line(prices, 'CloudWatch Logs ingested (GB)', 'logsIngestedGb', usage.logBytes / GB),
    line(prices, 'CloudWatch Logs stored (GB-month)', 'logsStoredGbMonth', (usage.logBytes / GB) * logMonths),
    line(prices, 'X-Ray traces recorded', 'xrayTrace', usage.traces),
  ];
}

/** CloudWatch's fixed items: they do not grow with the nodes (no per-node dimensions). */
export interface FixedItems {
  customMetrics: number;
  alarms: number;
  dashboards: number;
}

export function fixedBill(items: FixedItems, prices: PricesFile): BillLine[] {
  return [
    line(prices, 'CloudWatch custom metrics', 'customMetricMonth', items.customMetrics),
    line(prices, 'CloudWatch alarms (standard resolution)', 'alarmMonth', items.alarms),
    line(prices, 'CloudWatch dashboards', 'dashboardMonth', items.dashboards),
  ];
}

export const totalUsd = (lines: BillLine[]) => lines.reduce((sum, l) => sum + l.usd, 0);
