/**
 * What hybrid nodes actually cost, from Cost Explorer, and the cost findings of the nightly sweep.
 * Cost Explorer charges USD 0.01 per request (each page is one) and refreshes up to three times a
 * day, so a night makes two or three requests and says how many (REFERENCE.md section 7).
 * Dates are passed in by the caller (no clock here): ISO days, UTC, as Cost Explorer counts them.
 */
import {
  type CostExplorerClient,
  DataUnavailableException,
  GetCostAndUsageCommand,
  type GetCostAndUsageRequest,
  GetCostForecastCommand,
  type GetCostForecastRequest,
} from '@aws-sdk/client-cost-explorer';
import { InvalidRequestError } from '../errors';
import { costForHours, HOURS_PER_MONTH, HYBRID_VCPU_HOUR_USD } from './cost';
import type { SweepFinding } from './findings';

/** The Cost Explorer SERVICE under which hybrid nodes bill; a stage can configure another. */
export const EKS_SERVICE = 'Amazon Elastic Kubernetes Service';
/** What one Cost Explorer API request costs. */
export const CE_REQUEST_USD = 0.01;
/** Pages of GetCostAndUsage followed at most; one service grouped by usage type fits in one. */
export const MAX_USAGE_PAGES = 5;

/** The month-to-date period: `start` first day of the month, `end` today (exclusive). */
export interface SpendPeriod {
  start: string;
  end: string;
  /** First day of next month (exclusive end of the forecast). */
  forecastEnd: string;
}

export interface HybridSpend {
  period: SpendPeriod;
  /** The Cost Explorer SERVICE asked about. */
  service: string;
  /** Month to date of the hybrid vCPU usage type(s), USD to the cent. */
  actualUsd: number;
  /** Month to date of the hybrid vCPU usage type(s), vCPU-hours. */
  vcpuHours: number;
  /** The usage type(s) counted as hybrid vCPU-hours (the name is not documented: matched). */
  usageTypes: string[];
  /** Every usage type the service had this month, so a reader can see what did not match. */
  serviceUsageTypes: string[];
  /** Month to date of the whole service, USD to the cent. */
  serviceUsd: number;
  /** Set when the month-to-date figures were not asked for, or are incomplete. */
  actualNote?: string;
  /** Month-end forecast of the whole service: `serviceUsd` + the forecast for the rest of the month. */
  forecastUsd?: number;
  /** Cost Explorer's forecast for the rest of the month alone. */
  forecastRestUsd?: number;
  /** Why there is no forecast. */
  forecastNote?: string;
  /** Cost Explorer requests made (USD 0.01 each). */
  requests: number;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const micro = (usd: number) => Math.round(usd * 1_000_000);
const cents = (microUsd: number) => Math.round(microUsd / 10_000) / 100;

/** The month-to-date period for `today` (UTC, as Cost Explorer's days are). */
export function monthToDate(today: Date): SpendPeriod {
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth();
  return {
    start: isoDay(Date.UTC(y, m, 1)),
    end: isoDay(Date.UTC(y, m, today.getUTCDate())),
    forecastEnd: isoDay(Date.UTC(y, m + 1, 1)),
  };
}

function assertPeriod(period: SpendPeriod): void {
  for (const [key, day] of Object.entries(period)) {
    if (typeof day !== 'string' || !ISO_DAY.test(day) || isoDay(dayMs(day) || 0) !== day) {
      throw new InvalidRequestError(`Cost period ${key} "${String(day)}" is not a date.`, 'Pass days as YYYY-MM-DD.');
    }
  }
  if (!(period.start <= period.end && period.end < period.forecastEnd)) {
    throw new InvalidRequestError(
      `Cost period ${period.start} .. ${period.end} .. ${period.forecastEnd} is out of order.`,
      'Pass start = first day of the month <= end = today < forecastEnd = first day of next month.',
    );
  }
}

/**
 * The service's spend this month to date, the hybrid vCPU usage type(s) within it, and the
 * month-end forecast. Makes one GetCostAndUsage request per page (none on the first day of a
 * month: Cost Explorer rejects an empty period) and one GetCostForecast request.
 */
export async function hybridSpend(
  ce: CostExplorerClient,
  options: SpendPeriod & { serviceFilter?: string; maxPages?: number },
): Promise<HybridSpend> {
  const period = { start: options.start, end: options.end, forecastEnd: options.forecastEnd };
  assertPeriod(period);
  const service = options.serviceFilter ?? EKS_SERVICE;
  const filter = { Dimensions: { Key: 'SERVICE' as const, Values: [service] } };
  let requests = 0;

  // Per usage type, micro-dollars and micro-vCPU-hours, so sums stay exact.
  const byType = new Map<string, { usd: number; quantity: number }>();
  let actualNote: string | undefined;
  if (period.start === period.end) {
    actualNote = `No month-to-date figures on the first day of the month (${period.start}): Cost Explorer rejects an empty period.`;
  } else {
    const request: GetCostAndUsageRequest = {
      TimePeriod: { Start: period.start, End: period.end },
      Granularity: 'MONTHLY',
      Metrics: ['UnblendedCost', 'UsageQuantity'],
      Filter: filter,
      GroupBy: [{ Type: 'DIMENSION', Key: 'USAGE_TYPE' }],
    };
    let token: string | undefined;
    do {
      const page = await ce.send(new GetCostAndUsageCommand(token ? { ...request, NextPageToken: token } : request));
      requests += 1;
      for (const group of (page.ResultsByTime ?? []).flatMap((r) => r.Groups ?? [])) {
        const type = group.Keys?.[0];
        if (!type) continue;
        const sum = byType.get(type) ?? { usd: 0, quantity: 0 };
        sum.usd += micro(Number(group.Metrics?.UnblendedCost?.Amount ?? 0));
        sum.quantity += micro(Number(group.Metrics?.UsageQuantity?.Amount ?? 0));
        byType.set(type, sum);
      }
      token = page.NextPageToken;
      if (token && requests >= (options.maxPages ?? MAX_USAGE_PAGES)) {
        actualNote = `Stopped after ${requests} pages of GetCostAndUsage (${usd(requests * CE_REQUEST_USD)}): month-to-date figures may be incomplete.`;
        token = undefined;
      }
    } while (token);
  }

  const serviceUsageTypes = [...byType.keys()].sort();
  const hybrid = serviceUsageTypes.filter((t) => /hybrid/i.test(t));
  // Prefer the vCPU-hours line; any other hybrid line counts only when there is no such one.
  const vcpu = hybrid.filter((t) => /vcpu/i.test(t));
  const usageTypes = vcpu.length ? vcpu : hybrid;
  const total = (types: string[], key: 'usd' | 'quantity') =>
    types.reduce((acc, t) => acc + (byType.get(t)?.[key] ?? 0), 0);
  const serviceUsd = cents(total(serviceUsageTypes, 'usd'));

  const forecastRequest: GetCostForecastRequest = {
    TimePeriod: { Start: period.end, End: period.forecastEnd },
    Metric: 'UNBLENDED_COST',
    Granularity: 'MONTHLY',
    Filter: filter,
  };
  let forecastRestUsd: number | undefined;
  let forecastNote: string | undefined;
  try {
    requests += 1;
    const forecast = await ce.send(new GetCostForecastCommand(forecastRequest));
    const amount = forecast.Total?.Amount;
    if (amount === undefined) forecastNote = 'Cost Explorer returned a forecast without a total.';
    else forecastRestUsd = cents(micro(Number(amount)));
  } catch (error) {
    if (!(error instanceof DataUnavailableException)) throw error;
    forecastNote = `Cost Explorer has no forecast for ${service} yet (not enough history: ${error.message}).`;
  }

  return {
    period,
    service,
    actualUsd: cents(total(usageTypes, 'usd')),
    vcpuHours: total(usageTypes, 'quantity') / 1_000_000,
    usageTypes,
    serviceUsageTypes,
    serviceUsd,
    ...(actualNote ? { actualNote } : {}),
    ...(forecastRestUsd !== undefined
      ? { forecastUsd: cents(micro(serviceUsd) + micro(forecastRestUsd)), forecastRestUsd }
      : { forecastNote }),
    requests,
  };
}

/** A NotReady Node (or one whose managed instance is ConnectionLost): it bills all the same. */
export interface IdleNode {
  name: string;
  vcpus: number;
  /** When it stopped being Ready (ISO timestamp), if known. */
  since?: string;
  /** What is wrong with it; default "NotReady". */
  reason?: string;
}

/** `1234.5` -> `"1,234.50 USD"`. */
export const usd = (amount: number) => `${amount.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} USD`;

/** Actual month to date above this multiple of the expected month to date is a finding. */
export const ACTUAL_OVER_EXPECTED = 1.5;
/** A forecast above this share of the budget is a warning; above the budget, critical. */
export const BUDGET_WARNING_SHARE = 0.9;

/**
 * The sweep's account-wide cost findings: the month's forecast against the stage's budget, and
 * actual spend far above what the hybrid Nodes explain (each idle Node is
 * {@link idleNodeFindings}, per cluster). `expectedMonthUsd` is for a 730-hour month (see `monthlyCost`); the month to date expected is
 * its hourly share times the hours elapsed in `actual.period`.
 */
export function costFindings(input: {
  cluster: string;
  expectedMonthUsd: number;
  actual: HybridSpend;
  budgetUsd?: number;
  pricePerVcpuHour?: number;
}): SweepFinding[] {
  const { actual, budgetUsd, cluster } = input;
  const price = input.pricePerVcpuHour ?? HYBRID_VCPU_HOUR_USD;
  const found: SweepFinding[] = [];
  const add = (f: Omit<SweepFinding, 'check' | 'cluster'>) => found.push({ check: 'cost', cluster, ...f });
  const month = actual.period.start.slice(0, 7);
  const asked = `${actual.requests} Cost Explorer requests (${usd(actual.requests * CE_REQUEST_USD)})`;

  if (budgetUsd !== undefined) {
    const budget = `the monthly budget of ${usd(budgetUsd)}`;
    if (actual.forecastUsd !== undefined && actual.forecastUsd > budgetUsd * BUDGET_WARNING_SHARE) {
      const over = actual.forecastUsd > budgetUsd;
      const share = Math.round((actual.forecastUsd / budgetUsd) * 100);
      add({
        id: `cost:budget:${actual.service}`,
        severity: over ? 'critical' : 'warning',
        resource: actual.service,
        message: `${actual.service} is forecast at ${usd(actual.forecastUsd)} for ${month}, ${share}% of ${budget}.`,
        evidence: `${usd(actual.serviceUsd)} month to date (before ${actual.period.end}) + ${usd(actual.forecastRestUsd ?? 0)} Cost Explorer forecast for the rest of the month; ${asked}.`,
        fix: over
          ? 'Remove idle or NotReady hybrid nodes (delete their Node objects) and move work that does not need GPUs to AWS, or raise the budget if the spend is intended.'
          : 'Check for idle or NotReady hybrid nodes before the month ends; raise the budget if the growth is intended.',
      });
    } else if (actual.forecastUsd === undefined && actual.serviceUsd > budgetUsd) {
      add({
        id: `cost:budget:${actual.service}`,
        severity: 'critical',
        resource: actual.service,
        message: `${actual.service} has already cost ${usd(actual.serviceUsd)} in ${month}, over ${budget}.`,
        evidence: `Month to date before ${actual.period.end}; no forecast: ${actual.forecastNote ?? 'none returned'}`,
        fix: 'Remove idle or NotReady hybrid nodes (delete their Node objects), or raise the budget if the spend is intended.',
      });
    } else if (actual.forecastUsd === undefined) {
      add({
        id: `cost:budget-unchecked:${actual.service}`,
        severity: 'info',
        resource: actual.service,
        message: `No forecast for ${month}, so ${budget} was checked against the ${usd(actual.serviceUsd)} spent so far only.`,
        evidence: actual.forecastNote ?? 'Cost Explorer returned no forecast.',
        fix: 'Nothing to do now; Cost Explorer forecasts once it has enough history.',
      });
    }
  }

  const elapsedHours = ((dayMs(actual.period.end) - dayMs(actual.period.start)) / DAY_MS) * 24;
  const expectedToDate = cents(micro(input.expectedMonthUsd) * (elapsedHours / HOURS_PER_MONTH));
  const expectation = `${usd(input.expectedMonthUsd)} a 730-hour month at ${price} USD per vCPU-hour, ${elapsedHours} h elapsed`;
  if (elapsedHours > 0 && !actual.actualNote) {
    if (!actual.usageTypes.length && input.expectedMonthUsd > 0) {
      add({
        id: `cost:usage-type-not-found:${actual.service}`,
        severity: 'info',
        resource: actual.service,
        message: `No hybrid vCPU usage type in ${actual.service} for ${month}, though ${cluster}'s hybrid Nodes should have cost ${usd(expectedToDate)} so far: actual spend was not compared with expected.`,
        evidence: `Usage types this month: ${actual.serviceUsageTypes.join(', ') || 'none'}; expected ${expectation}.`,
        fix: 'Find the hybrid nodes usage type in Cost Explorer (the service grouped by usage type) and check the configured service filter; new usage can take a day to appear.',
      });
    } else if (actual.actualUsd > expectedToDate * ACTUAL_OVER_EXPECTED) {
      add({
        id: `cost:actual-over-expected:${cluster}`,
        severity: 'warning',
        resource: actual.usageTypes.join(', '),
        message: `Hybrid nodes have cost ${usd(actual.actualUsd)} in ${month} to date, over ${ACTUAL_OVER_EXPECTED}x the ${usd(expectedToDate)} that ${cluster}'s hybrid Nodes explain.`,
        evidence: `${actual.vcpuHours} vCPU-hours of ${actual.usageTypes.join(', ')} before ${actual.period.end}; expected ${expectation}.`,
        fix: 'Look for hybrid Nodes in another cluster or Region of this account, or deleted and re-created; check the per-vCPU-hour price on the EKS pricing page and update the configured price if it changed.',
      });
    }
  }

  return found;
}

/** The quiet loss: each NotReady (or unreachable) Node with what it costs a day, since it still bills. */
export function idleNodeFindings(cluster: string, nodes: IdleNode[], pricePerVcpuHour: number): SweepFinding[] {
  return nodes.map((node) => {
    const perDay = costForHours(node.vcpus, 24, pricePerVcpuHour);
    return {
      id: `cost:not-ready:${node.name}`,
      check: 'cost',
      cluster,
      severity: 'warning',
      resource: node.name,
      message: `Node ${node.name} is ${node.reason ?? 'NotReady'}${node.since ? ` since ${node.since}` : ''} and still billing: ${usd(perDay)} per day.`,
      evidence: `${node.vcpus} vCPU x ${pricePerVcpuHour} USD per vCPU-hour x 24 h.`,
      fix: `Bring the node back (kubelet, CNI, its link to the cluster), or if it is gone for good delete the Node object: kubectl delete node ${node.name}. Hybrid nodes bill until the Node object is deleted; nodeadm uninstall does not delete it.`,
    };
  });
}
