/**
 * What hybrid nodes actually cost, from Cost Explorer (the findings about it: cost-findings.ts).
 * Cost Explorer charges USD 0.01 per request (each page is one; AWS Cost Explorer FAQs,
 * https://aws.amazon.com/aws-cost-management/aws-cost-explorer/faqs/) and refreshes up to three
 * times a day, so a night says how many it made (REFERENCE.md section 7): the month to date and
 * the forecast, and on the night that finds the names to ask about (lib/sweep/cost-names.ts) two
 * more. That is the first night of a month, or when the names kept for the month return nothing.
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
import { cents, micro, usd } from '../pricing';
import { type CachedCostNames, type CostNames, cachedNames, costNames, namesToKeep, sameNames } from './cost-names';

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
  /** What tonight's discovery found, for the caller to keep for the rest of the month. */
  keep?: CachedCostNames;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

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
 * month-end forecast. First finds the names to ask about: the config's (`service`, `usageTypes`),
 * else the ones `cached` kept for this month, else {@link costNames} (GetDimensionValues). Then
 * one GetCostAndUsage request per page (none on the first day of a month: Cost Explorer rejects
 * an empty period) and one GetCostForecast request. When no EKS service is found, asks nothing
 * more. Kept names that return nothing this month (no line of the service, or none of the kept
 * usage types) are stale: the names are discovered again, and the month to date asked again if
 * the services changed. `keep` is set when discovery ran and found names worth keeping.
 */
export async function hybridSpend(
  ce: CostExplorerClient,
  options: SpendPeriod & { service?: string; usageTypes?: string[]; maxPages?: number; cached?: CachedCostNames },
): Promise<HybridSpend> {
  const period = { start: options.start, end: options.end, forecastEnd: options.forecastEnd };
  assertPeriod(period);
  const month = period.start.slice(0, 7);
  const pinned = {
    ...(options.service ? { service: options.service } : {}),
    ...(options.usageTypes?.length ? { usageTypes: options.usageTypes } : {}),
  };
  const discover = () => costNames(ce, { ...discoveryPeriod(period), ...pinned });
  let names = cachedNames(options.cached, { month, ...pinned }) ?? (await discover());
  let requests = names.requests;
  const nothing = { period, actualUsd: 0, vcpuHours: 0, serviceUsageTypes: [], serviceUsd: 0 };
  const noService = (): HybridSpend => {
    const why = `No EKS service in Cost Explorer from ${discoveryPeriod(period).start} to ${period.end}.`;
    return { ...nothing, names, actualNote: why, forecastNote: why, requests };
  };
  if (!names.services.length) return noService();

  let actualNote: string | undefined;
  let byType = new Map<string, { usd: number; quantity: number }>();
  const firstDay = period.start === period.end;
  if (firstDay) {
    actualNote = `No month-to-date figures on the first day of the month (${period.start}): Cost Explorer rejects an empty period.`;
  } else {
    let asked = await monthToDateByType(ce, period, names.services, options.maxPages);
    requests += asked.pages;
    const returnedNothing =
      !asked.byType.size ||
      (names.usageTypesFrom === 'discovery' && !names.usageTypes.some((t) => asked.byType.has(t)));
    if (names.discoveredOn && returnedNothing) {
      const kept = names.services;
      names = await discover();
      requests += names.requests;
      if (names.services.length && !sameNames(kept, names.services)) {
        asked = await monthToDateByType(ce, period, names.services, options.maxPages);
        requests += asked.pages;
      }
    }
    byType = asked.byType;
    actualNote = asked.note;
  }
  if (!names.services.length) return noService();
  const keep = namesToKeep(names, month, period.end);
  const filter = { Dimensions: { Key: Dimension.SERVICE, Values: names.services } };

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
    names,
    actualUsd: cents(total(names.usageTypes, 'usd')),
    vcpuHours: total(names.usageTypes, 'quantity') / 1_000_000,
    serviceUsageTypes,
    serviceUsd,
    ...(actualNote ? { actualNote } : {}),
    ...(forecastRestUsd !== undefined
      ? { forecastUsd: cents(micro(serviceUsd) + micro(forecastRestUsd)), forecastRestUsd }
      : { forecastNote }),
    requests,
    ...(keep ? { keep } : {}),
  };
}

/**
 * The month to date of `services` by usage type, in micro-dollars and micro-units so sums stay
 * exact: one GetCostAndUsage request per page, at most `maxPages`.
 */
async function monthToDateByType(
  ce: CostExplorerClient,
  period: SpendPeriod,
  services: string[],
  maxPages = MAX_USAGE_PAGES,
): Promise<{ byType: Map<string, { usd: number; quantity: number }>; pages: number; note?: string }> {
  const byType = new Map<string, { usd: number; quantity: number }>();
  const request: GetCostAndUsageRequest = {
    TimePeriod: { Start: period.start, End: period.end },
    Granularity: Granularity.MONTHLY,
    Metrics: ['UnblendedCost', 'UsageQuantity'],
    Filter: { Dimensions: { Key: Dimension.SERVICE, Values: services } },
    GroupBy: [{ Type: GroupDefinitionType.DIMENSION, Key: Dimension.USAGE_TYPE }],
  };
  let token: string | undefined;
  let pages = 0;
  let note: string | undefined;
  do {
    const page = await ce.send(new GetCostAndUsageCommand(token ? { ...request, NextPageToken: token } : request));
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
    if (token && pages >= maxPages) {
      note = `Stopped after ${pages} pages of GetCostAndUsage (${usd(pages * CE_REQUEST_USD)}): month-to-date figures may be incomplete.`;
      token = undefined;
    }
  } while (token);
  return { byType, pages, ...(note ? { note } : {}) };
}

/** The service(s) asked about, as findings name them. */
export const serviceLabel = (names: CostNames) => names.services.join(' + ') || 'EKS';

/** Hours from the start of a period to its end (exclusive), as Cost Explorer's UTC days count them. */
export const periodHours = (period: Pick<SpendPeriod, 'start' | 'end'>) =>
  ((dayMs(period.end) - dayMs(period.start)) / DAY_MS) * 24;
