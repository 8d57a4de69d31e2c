/**
 * What hybrid nodes actually cost, from Cost Explorer, and the cost findings of the nightly sweep.
 * Cost Explorer charges USD 0.01 per request (each page is one) and refreshes up to three times a
 * day, so a night makes four or five requests and says how many (REFERENCE.md section 7): two
 * to find the names to ask about (lib/sweep/cost-names.ts), the month to date, the forecast.
 * Dates are passed in by the caller (no clock here): ISO days, UTC, as Cost Explorer counts them.
 */
import {
  type CostExplorerClient,
  DataUnavailableException,
  Dimension,
  GetCostAndUsageCommand,
  type GetCostAndUsageRequest,
  GetCostForecastCommand,
  type GetCostForecastRequest,
  Granularity,
  GroupDefinitionType,
  Metric,
} from '@aws-sdk/client-cost-explorer';
import { InvalidRequestError } from '../errors';
import { costForHours, HOURS_PER_MONTH, HYBRID_VCPU_HOUR_USD } from './cost';
import { type CostNames, costNames, describeNames } from './cost-names';
import type { SweepFinding } from './findings';

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
  /** The Cost Explorer SERVICE and USAGE_TYPE values asked about, and how they were found. */
  names: CostNames;
  /** Month to date of the hybrid vCPU usage type(s), USD to the cent. */
  actualUsd: number;
  /** Month to date of the hybrid vCPU usage type(s), vCPU-hours. */
  vcpuHours: number;
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
  /** Cost Explorer requests made (USD 0.01 each), `names.requests` of them GetDimensionValues. */
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

/**
 * Where the names are looked for: last month and this month to date, so the first day of a month
 * (no month to date yet) and a line that has not billed yet this month still find them.
 */
export function discoveryPeriod(period: SpendPeriod): { start: string; end: string } {
  const start = new Date(dayMs(period.start));
  return { start: isoDay(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1)), end: period.end };
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
 * month-end forecast. First finds the names to ask about ({@link costNames}: GetDimensionValues,
 * unless `service` and `usageTypes` pin them), then makes one GetCostAndUsage request per page
 * (none on the first day of a month: Cost Explorer rejects an empty period) and one
 * GetCostForecast request. When no EKS service is found, asks nothing more.
 */
export async function hybridSpend(
  ce: CostExplorerClient,
  options: SpendPeriod & { service?: string; usageTypes?: string[]; maxPages?: number },
): Promise<HybridSpend> {
  const period = { start: options.start, end: options.end, forecastEnd: options.forecastEnd };
  assertPeriod(period);
  const names = await costNames(ce, {
    ...discoveryPeriod(period),
    ...(options.service ? { service: options.service } : {}),
    ...(options.usageTypes?.length ? { usageTypes: options.usageTypes } : {}),
  });
  let requests = names.requests;
  const nothing = { period, names, actualUsd: 0, vcpuHours: 0, serviceUsageTypes: [], serviceUsd: 0 };
  if (!names.services.length) {
    const why = `No EKS service in Cost Explorer from ${discoveryPeriod(period).start} to ${period.end}.`;
    return { ...nothing, actualNote: why, forecastNote: why, requests };
  }
  const filter = { Dimensions: { Key: Dimension.SERVICE, Values: names.services } };

  // Per usage type, micro-dollars and micro-vCPU-hours, so sums stay exact.
  const byType = new Map<string, { usd: number; quantity: number }>();
  let actualNote: string | undefined;
  if (period.start === period.end) {
    actualNote = `No month-to-date figures on the first day of the month (${period.start}): Cost Explorer rejects an empty period.`;
  } else {
    const request: GetCostAndUsageRequest = {
      TimePeriod: { Start: period.start, End: period.end },
      Granularity: Granularity.MONTHLY,
      Metrics: ['UnblendedCost', 'UsageQuantity'],
      Filter: filter,
      GroupBy: [{ Type: GroupDefinitionType.DIMENSION, Key: Dimension.USAGE_TYPE }],
    };
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ce.send(new GetCostAndUsageCommand(token ? { ...request, NextPageToken: token } : request));
      requests += 1;
      pages += 1;
      for (const group of (page.ResultsByTime ?? []).flatMap((r) => r.Groups ?? [])) {
        const type = group.Keys?.[0];
        if (!type) continue;
        const sum = byType.get(type) ?? { usd: 0, quantity: 0 };
        sum.usd += micro(Number(group.Metrics?.UnblendedCost?.Amount ?? 0));
        sum.quantity += micro(Number(group.Metrics?.UsageQuantity?.Amount ?? 0));
        byType.set(type, sum);
      }
      token = page.NextPageToken;
      if (token && pages >= (options.maxPages ?? MAX_USAGE_PAGES)) {
        actualNote = `Stopped after ${pages} pages of GetCostAndUsage (${usd(pages * CE_REQUEST_USD)}): month-to-date figures may be incomplete.`;
        token = undefined;
      }
    } while (token);
  }

  const serviceUsageTypes = [...byType.keys()].sort();
  const total = (types: string[], key: 'usd' | 'quantity') =>
    types.reduce((acc, t) => acc + (byType.get(t)?.[key] ?? 0), 0);
  const serviceUsd = cents(total(serviceUsageTypes, 'usd'));

  const forecastRequest: GetCostForecastRequest = {
    TimePeriod: { Start: period.end, End: period.forecastEnd },
    Metric: Metric.UNBLENDED_COST,
    Granularity: Granularity.MONTHLY,
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
    forecastNote = `Cost Explorer has no forecast for ${serviceLabel(names)} yet (not enough history: ${error.message}).`;
  }

  return {
    ...nothing,
    actualUsd: cents(total(names.usageTypes, 'usd')),
    vcpuHours: total(names.usageTypes, 'quantity') / 1_000_000,
    serviceUsageTypes,
    serviceUsd,
    ...(actualNote ? { actualNote } : {}),
    ...(forecastRestUsd !== undefined
      ? { forecastUsd: cents(micro(serviceUsd) + micro(forecastRestUsd)), forecastRestUsd }
      : { forecastNote }),
    requests,
  };
}

/** The service(s) asked about, as findings name them. */
export const serviceLabel = (names: CostNames) => names.services.join(' + ') || 'EKS';

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
  const discovered = actual.names.requests ? `, ${actual.names.requests} of them GetDimensionValues` : '';
  const asked = `${actual.requests} Cost Explorer request${actual.requests === 1 ? '' : 's'} (${usd(actual.requests * CE_REQUEST_USD)}${discovered})`;
  // Every cost finding says which Cost Explorer names it is about and how they were found.
  const names = `${describeNames(actual.names)}; ${asked}.`;
  const service = serviceLabel(actual.names);

  if (!actual.names.services.length) {
    const listed = actual.names.listedServices;
    add({
      id: 'cost:service-not-found',
      severity: 'info',
      resource: 'Cost Explorer SERVICE',
      message: `Cost Explorer lists no EKS service from ${discoveryPeriod(actual.period).start} to ${actual.period.end}, so tonight nothing was compared with ${budgetUsd === undefined ? 'what the hybrid Nodes explain' : `the monthly budget of ${usd(budgetUsd)} or with what the hybrid Nodes explain`}.`,
      evidence: `Services with spend then: ${listed.slice(0, 20).join(', ') || 'none'}${listed.length > 20 ? `, and ${listed.length - 20} more` : ''}; none is an Amazon service naming Kubernetes. ${asked}.${actual.names.note ? ` ${actual.names.note}` : ''}`,
      fix: 'A new account or cluster takes up to a day to appear in Cost Explorer. If EKS bills under a name this sweep does not recognise, set sweep.costService (and sweep.hybridUsageTypes) in config/<stage>.yaml to the names Cost Explorer lists; discovery is then skipped.',
    });
    return found;
  }

  if (budgetUsd !== undefined) {
    const budget = `the monthly budget of ${usd(budgetUsd)}`;
    if (actual.forecastUsd !== undefined && actual.forecastUsd > budgetUsd * BUDGET_WARNING_SHARE) {
      const over = actual.forecastUsd > budgetUsd;
      const share = Math.round((actual.forecastUsd / budgetUsd) * 100);
      add({
        id: `cost:budget:${service}`,
        severity: over ? 'critical' : 'warning',
        resource: service,
        message: `${service} is forecast at ${usd(actual.forecastUsd)} for ${month}, ${share}% of ${budget}.`,
        evidence: `${usd(actual.serviceUsd)} month to date (before ${actual.period.end}) + ${usd(actual.forecastRestUsd ?? 0)} Cost Explorer forecast for the rest of the month. ${names}`,
        fix: over
          ? 'Remove idle or NotReady hybrid nodes (delete their Node objects) and move work that does not need GPUs to AWS, or raise the budget if the spend is intended.'
          : 'Check for idle or NotReady hybrid nodes before the month ends; raise the budget if the growth is intended.',
      });
    } else if (actual.forecastUsd === undefined && actual.serviceUsd > budgetUsd) {
      add({
        id: `cost:budget:${service}`,
        severity: 'critical',
        resource: service,
        message: `${service} has already cost ${usd(actual.serviceUsd)} in ${month}, over ${budget}.`,
        evidence: `Month to date before ${actual.period.end}; no forecast: ${actual.forecastNote ?? 'none returned'} ${names}`,
        fix: 'Remove idle or NotReady hybrid nodes (delete their Node objects), or raise the budget if the spend is intended.',
      });
    } else if (actual.forecastUsd === undefined) {
      add({
        id: `cost:budget-unchecked:${service}`,
        severity: 'info',
        resource: service,
        message: `No forecast for ${month}, so ${budget} was checked against the ${usd(actual.serviceUsd)} spent so far only.`,
        evidence: `${actual.forecastNote ?? 'Cost Explorer returned no forecast.'} ${names}`,
        fix: 'Nothing to do now; Cost Explorer forecasts once it has enough history.',
      });
    }
  }

  const elapsedHours = ((dayMs(actual.period.end) - dayMs(actual.period.start)) / DAY_MS) * 24;
  const expectedToDate = cents(micro(input.expectedMonthUsd) * (elapsedHours / HOURS_PER_MONTH));
  const expectation = `${usd(input.expectedMonthUsd)} a 730-hour month at ${price} USD per vCPU-hour, ${elapsedHours} h elapsed`;
  const usageTypes = actual.names.usageTypes;
  if (elapsedHours > 0 && !actual.actualNote) {
    if (!usageTypes.some((t) => actual.serviceUsageTypes.includes(t)) && input.expectedMonthUsd > 0) {
      add({
        id: `cost:usage-type-not-found:${service}`,
        severity: 'info',
        resource: service,
        message: `No hybrid vCPU usage in ${service} for ${month}, though ${cluster}'s hybrid Nodes should have cost ${usd(expectedToDate)} so far: actual spend was not compared with expected.`,
        evidence: `Usage types this month: ${actual.serviceUsageTypes.join(', ') || 'none'}; expected ${expectation}. ${names}`,
        fix: 'Find the hybrid nodes usage type in Cost Explorer (the service grouped by usage type) and set sweep.hybridUsageTypes in config/<stage>.yaml if discovery does not recognise it; new usage can take a day to appear.',
      });
    } else if (actual.actualUsd > expectedToDate * ACTUAL_OVER_EXPECTED) {
      add({
        id: `cost:actual-over-expected:${cluster}`,
        severity: 'warning',
        resource: usageTypes.join(', '),
        message: `Hybrid nodes have cost ${usd(actual.actualUsd)} in ${month} to date, over ${ACTUAL_OVER_EXPECTED}x the ${usd(expectedToDate)} that ${cluster}'s hybrid Nodes explain.`,
        evidence: `${actual.vcpuHours} vCPU-hours of ${usageTypes.join(', ')} before ${actual.period.end}; expected ${expectation}. ${names}`,
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
