import * as sdk from '@aws-sdk/client-cost-explorer';
import {
  Context,
  DataUnavailableException,
  type DateInterval,
  Dimension,
  type Expression,
  type GetCostAndUsageCommandInput,
  type GetCostAndUsageCommandOutput,
  type GetCostForecastCommandInput,
  type GetCostForecastCommandOutput,
  type GetDimensionValuesCommandInput,
  type GetDimensionValuesCommandOutput,
  GroupDefinitionType,
  InvalidNextTokenException,
  RequestChangedException,
} from '@aws-sdk/client-cost-explorer';
import * as z from 'zod';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import { type Answer, type SandboxService, type SdkExceptions, sdkError } from '../service';

const exceptions = { base: sdk.CostExplorerServiceException, module: sdk } satisfies SdkExceptions;
/** The error ce answers `name` with (see {@link sdkError}). */
const ceError = (name: string, message: string) => sdkError(exceptions, name, message);

/**
 * Cost Explorer, simulated from the estate: hybrid vCPU-hours are what the Nodes that exist
 * have run (each since it was created, up to the sandbox clock's now), plus the seed's untracked
 * vCPUs, at the seed's price; other usage types bill a fixed amount a day. The forecast carries
 * the current hourly rate to the end of the period. GetDimensionValues lists the services and
 * usage types of these same lines, so what it names is what GetCostAndUsage bills.
 */

const HOUR = 3600_000;
/** A YYYY-MM-DD day's start, or NaN: strict, as Cost Explorer is (no `2026-11`, no `2026-11-31`). */
const dayStart = (day: string) => {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day ? ms : Number.NaN;
};
const meta = { $metadata: {} };

/**
 * EKS's SERVICE value as Cost Explorer and AWS Budgets list it: its launch name, not "Amazon
 * Elastic Kubernetes Service" (REFERENCE.md section 8; a GetDimensionValues SERVICE answer
 * quoted in public code lists "Amazon Elastic Container Service for Kubernetes").
 */
export const EKS_SERVICE = 'Amazon Elastic Container Service for Kubernetes';

function costSeed(estate: SandboxEstate) {
  const seed = estate.seed.costExplorer;
  if (!seed) {
    throw ceError(
      'AccessDeniedException',
      'Cost Explorer is not enabled for this account (the sandbox seed has no costExplorer).',
    );
  }
  return seed;
}

function period(timePeriod: DateInterval | undefined): { start: number; end: number } {
  const start = dayStart(timePeriod?.Start ?? '');
  const end = dayStart(timePeriod?.End ?? '');
  if (Number.isNaN(start) || Number.isNaN(end)) {
    throw ceError('ValidationException', 'TimePeriod Start and End must be dates (YYYY-MM-DD).');
  }
  if (end <= start) throw ceError('ValidationException', 'Start date should be before end date.');
  return { start, end };
}

/**
 * The SERVICE values a Filter keeps (any of them: a Dimensions filter ORs its Values, per the
 * Expression docs in the SDK's model), or undefined without a Filter. Other filters are not simulated.
 */
function filteredServices(filter: Expression | undefined): string[] | undefined {
  if (filter === undefined) return undefined;
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== 'Dimensions' || filter.Dimensions?.Key !== Dimension.SERVICE) {
    throw new SandboxNotImplementedError(
      `The sandbox's Cost Explorer filters only on Dimensions SERVICE, not ${JSON.stringify(filter)}.`,
      'Filter on { Dimensions: { Key: "SERVICE", Values: [...] } }, or run with --estate aws.',
    );
  }
  return filter.Dimensions.Values ?? [];
}

interface CostLine {
  service: string;
  usageType: string;
  /** Usage in [from, to) up to now: vCPU-hours, or hours for the fixed lines. */
  quantity: number;
  usdPerUnit: number;
}

/** Every line billed in [from, to), up to the sandbox clock's now; none with no usage. */
function costLines(estate: SandboxEstate, from: number, to: number): CostLine[] {
  const seed = costSeed(estate);
  const now = estate.clock.now().getTime();
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, to) - Math.max(a, from)) / HOUR;
  let vcpuHours = seed.untrackedVcpus * overlap(from, now);
  for (const node of Object.values(estate.state.nodes)) {
    vcpuHours += Number(node.capacity.cpu) * overlap(Date.parse(node.createdAt), now);
  }
  const lines: CostLine[] = [
    { service: EKS_SERVICE, usageType: seed.hybridUsageType, quantity: vcpuHours, usdPerUnit: seed.pricePerVcpuHour },
    ...seed.otherUsage.map((u) => ({
      service: u.service ?? EKS_SERVICE,
      usageType: u.usageType,
      quantity: overlap(from, now),
      usdPerUnit: u.usdPerDay / 24,
    })),
  ];
  return lines.filter((l) => l.quantity > 0);
}

/** Cost Explorer's tokens are opaque; the sandbox's carry the offset and the request they page. */
const requestKey = (input: GetDimensionValuesCommandInput) => {
  const { NextPageToken: _token, ...rest } = input;
  return JSON.stringify(rest, Object.keys(rest).sort());
};

function pageOf<T>(items: T[], input: GetDimensionValuesCommandInput, size: number): { page: T[]; next?: string } {
  let start = 0;
  const token = input.NextPageToken;
  if (typeof token === 'string' && token) {
    let decoded: { offset?: unknown; request?: unknown } = {};
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof decoded;
    } catch {
      // not one of ours: below
    }
    if (typeof decoded.offset !== 'number' || typeof decoded.request !== 'string' || decoded.offset > items.length) {
      // The service model: "The pagination token is invalid. Try again without a pagination token."
      throw new InvalidNextTokenException({ ...meta, message: 'The pagination token is invalid.' });
    }
    if (decoded.request !== requestKey(input)) {
      // The service model: "Your request parameters changed between pages."
      throw new RequestChangedException({
        ...meta,
        message:
          'Your request parameters changed between pages. Try again with the old parameters or without a pagination token.',
      });
    }
    start = decoded.offset;
  }
  const page = items.slice(start, start + size);
  const end = start + page.length;
  const next =
    end < items.length
      ? Buffer.from(JSON.stringify({ offset: end, request: requestKey(input) })).toString('base64url')
      : undefined;
  return { page, ...(next ? { next } : {}) };
}

/** What the seed declares for Cost Explorer. */
const ceSeed = {
  /**
   * What Cost Explorer reports. Hybrid vCPU-hours are simulated from the Nodes that exist (each
   * since it was created), under `hybridUsageType` of EKS; `otherUsage` adds fixed daily amounts
   * (the cluster fee), under EKS unless it names another `service`; `untrackedVcpus` bills vCPUs
   * no cluster here knows of. GetDimensionValues lists `dimensionValuesPageSize` values a page
   * (AWS does not document its page size without SortBy; with SortBy it defaults to, and caps
   * MaxResults at, 1000: GetDimensionValuesRequest in the SDK's model).
   */
  costExplorer: z
    .object({
      hybridUsageType: z.string(),
      pricePerVcpuHour: z.number().positive(),
      untrackedVcpus: z.number().min(0).default(0),
      otherUsage: z
        .array(z.object({ usageType: z.string(), usdPerDay: z.number().min(0), service: z.string().optional() }))
        .default([]),
      dimensionValuesPageSize: z.number().int().min(1).default(1000),
      /** False: GetCostForecast answers DataUnavailableException (a new account). */
      forecast: z.boolean().default(true),
    })
    .optional(),
};

export const ceCommands = {
  GetCostAndUsage(estate: SandboxEstate, input: GetCostAndUsageCommandInput): Answer<GetCostAndUsageCommandOutput> {
    const { start, end } = period(input.TimePeriod);
    const now = estate.clock.now().getTime();
    if (start > now) throw ceError('ValidationException', 'The start date is in the future.');
    const services = filteredServices(input.Filter);
    const groups = costLines(estate, start, end).filter((l) => !services || services.includes(l.service));
    return {
      GroupDefinitions: [{ Type: GroupDefinitionType.DIMENSION, Key: Dimension.USAGE_TYPE }],
      ResultsByTime: [
        {
          TimePeriod: input.TimePeriod,
          Total: {},
          Groups: groups.map((g) => ({
            Keys: [g.usageType],
            Metrics: {
              UnblendedCost: { Amount: (g.quantity * g.usdPerUnit).toFixed(10), Unit: 'USD' },
              UsageQuantity: { Amount: g.quantity.toFixed(10), Unit: 'N/A' },
            },
          })),
          Estimated: true,
        },
      ],
      DimensionValueAttributes: [],
    };
  },

  GetCostForecast(estate: SandboxEstate, input: GetCostForecastCommandInput): Answer<GetCostForecastCommandOutput> {
    const seed = costSeed(estate);
    if (!seed.forecast) {
      throw new DataUnavailableException({
        ...meta,
        message: 'Insufficient amount of historical data to generate forecast.',
      });
    }
    const { start, end } = period(input.TimePeriod);
    const services = filteredServices(input.Filter);
    const kept = (service: string) => !services || services.includes(service);
    const vcpus =
      seed.untrackedVcpus + Object.values(estate.state.nodes).reduce((s, n) => s + Number(n.capacity.cpu), 0);
    const perHour =
      (kept(EKS_SERVICE) ? vcpus * seed.pricePerVcpuHour : 0) +
      seed.otherUsage.filter((u) => kept(u.service ?? EKS_SERVICE)).reduce((s, u) => s + u.usdPerDay / 24, 0);
    if (perHour === 0) return { Total: { Amount: '0', Unit: 'USD' }, ForecastResultsByTime: [] };
    const amount = (perHour * (end - start)) / HOUR;
    return {
      Total: { Amount: amount.toFixed(10), Unit: 'USD' },
      ForecastResultsByTime: [{ TimePeriod: input.TimePeriod, MeanValue: amount.toFixed(10) }],
    };
  },

  /**
   * The SERVICE or USAGE_TYPE values with usage in the period (COST_AND_USAGE context), sorted,
   * a page at a time: NextPageToken when more values remain than a page holds, ReturnSize the
   * values in this page, TotalSize all of them (GetDimensionValuesResponse in the SDK's model).
   * The page size is the seed's (AWS does not document it for requests without SortBy).
   */
  GetDimensionValues(
    estate: SandboxEstate,
    input: GetDimensionValuesCommandInput,
  ): Answer<GetDimensionValuesCommandOutput> {
    const seed = costSeed(estate);
    const { start, end } = period(input.TimePeriod);
    if (start > estate.clock.now().getTime()) {
      throw ceError('ValidationException', 'The start date is in the future.');
    }
    const dimension = input.Dimension;
    const context = input.Context ?? Context.COST_AND_USAGE;
    const unsupported = (['SearchString', 'SortBy', 'MaxResults', 'BillingViewArn'] as const).filter(
      (k) => input[k] !== undefined,
    );
    if (
      context !== Context.COST_AND_USAGE ||
      (dimension !== Dimension.SERVICE && dimension !== Dimension.USAGE_TYPE) ||
      unsupported.length
    ) {
      throw new SandboxNotImplementedError(
        `The sandbox's GetDimensionValues lists SERVICE and USAGE_TYPE in context COST_AND_USAGE only, without ${unsupported.join(', ') || 'other options'} (asked: ${String(dimension)} in ${String(context)}).`,
        'Ask for Dimension SERVICE or USAGE_TYPE, or run with --estate aws.',
      );
    }
    const services = filteredServices(input.Filter);
    const lines = costLines(estate, start, end).filter((l) => !services || services.includes(l.service));
    const values = [...new Set(lines.map((l) => (dimension === Dimension.SERVICE ? l.service : l.usageType)))].sort();
    const { page, next } = pageOf(values, input, seed.dimensionValuesPageSize);
    return {
      DimensionValues: page.map((Value) => ({ Value, Attributes: {} })),
      ReturnSize: page.length,
      TotalSize: values.length,
      ...(next ? { NextPageToken: next } : {}),
    };
  },
};

/** Cost Explorer: costs, forecasts and dimension values, from the estate's Nodes and the seed's prices. */
export const ceService = {
  name: 'ce',
  source: __filename,
  exceptions,
  commands: ceCommands,
  seed: ceSeed,
} satisfies SandboxService<typeof ceSeed>;
