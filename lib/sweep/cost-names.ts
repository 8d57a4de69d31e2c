/**
 * The names hybrid nodes bill under in Cost Explorer: EKS's SERVICE value and the USAGE_TYPE
 * values of hybrid nodes' vCPU-hours. Neither is taken on trust: they are discovered with
 * GetDimensionValues (SERVICE, then USAGE_TYPE within the service found), unless the stage's
 * config pins them, and what discovery found is kept for the rest of the month in the run store
 * ({@link CachedCostNamesSchema}; cost-aws.ts decides when it is stale). Each page is one request
 * at USD 0.01, counted.
 */
import {
  Context,
  type CostExplorerClient,
  Dimension,
  GetDimensionValuesCommand,
  type GetDimensionValuesRequest,
} from '@aws-sdk/client-cost-explorer';
import * as z from 'zod';

/** Pages of GetDimensionValues followed at most, per dimension. */
export const MAX_DIMENSION_PAGES = 5;

/**
 * EKS's SERVICE value: Cost Explorer and AWS Budgets list EKS as "Amazon Elastic Container
 * Service for Kubernetes", its name at launch, not "Amazon Elastic Kubernetes Service"
 * (REFERENCE.md section 8; GetDimensionValues SERVICE answers quoted in public code list it so).
 * Any Amazon service naming Kubernetes counts, so a rename or a separate hybrid nodes line is
 * found too; Marketplace products are listed under their own names, not starting "Amazon ".
 */
export const isEksService = (value: string) => /^Amazon .*\bKubernetes\b/i.test(value);

/**
 * The hybrid vCPU-hour usage type(s) among `usageTypes`. AWS does not document the name
 * (REFERENCE.md section 7): those naming `hybrid`, and of them those naming `vCPU` when any do.
 */
export function hybridUsageTypes(usageTypes: string[]): string[] {
  const hybrid = usageTypes.filter((t) => /hybrid/i.test(t));
  const vcpu = hybrid.filter((t) => /vcpu/i.test(t));
  return vcpu.length ? vcpu : hybrid;
}

export interface CostNames {
  /** The SERVICE value(s) to filter on; empty when discovery found none. */
  services: string[];
  servicesFrom: 'config' | 'discovery';
  /** The USAGE_TYPE value(s) counted as hybrid vCPU-hours. */
  usageTypes: string[];
  usageTypesFrom: 'config' | 'discovery';
  /** Every SERVICE value discovery listed (none when the config pins the service). */
  listedServices: string[];
  /** Every USAGE_TYPE value of the service(s) discovery listed (none when pinned). */
  listedUsageTypes: string[];
  /** GetDimensionValues requests made. */
  requests: number;
  /** Set when a listing stopped at the page limit, so a name may have been missed. */
  note?: string;
  /** Set when the discovered names are the month's kept ones: the day (YYYY-MM-DD) they were discovered. */
  discoveredOn?: string;
}

/**
 * What discovery found, kept in the run store for the rest of its month (`month`, YYYY-MM) so
 * the other nights ask Cost Explorer no GetDimensionValues. Read with this schema: an object
 * that does not parse is no cache, and the night discovers again.
 */
export const CachedCostNamesSchema = z.object({
  month: z.string().regex(/^\d{4}-\d{2}$/),
  discoveredOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  services: z.array(z.string().min(1)).min(1),
  usageTypes: z.array(z.string().min(1)),
  listedServices: z.array(z.string()),
  listedUsageTypes: z.array(z.string()),
});
export type CachedCostNames = z.infer<typeof CachedCostNamesSchema>;

/** Whether two lists of names hold the same names, in any order. */
export const sameNames = (a: string[], b: string[]) => a.length === b.length && a.every((v) => b.includes(v));

/**
 * The month's kept names as {@link CostNames} (no requests), or undefined when they cannot stand
 * in for discovery tonight: kept for another month, for another service than the config pins, or
 * without usage types when the config does not pin them.
 */
export function cachedNames(
  cached: CachedCostNames | undefined,
  options: { month: string; service?: string; usageTypes?: string[] },
): CostNames | undefined {
  if (!cached || cached.month !== options.month) return undefined;
  if (options.service && !sameNames(cached.services, [options.service])) return undefined;
  if (!options.usageTypes && !cached.usageTypes.length) return undefined;
  return {
    services: cached.services,
    servicesFrom: options.service ? 'config' : 'discovery',
    usageTypes: options.usageTypes ?? cached.usageTypes,
    usageTypesFrom: options.usageTypes ? 'config' : 'discovery',
    listedServices: cached.listedServices,
    listedUsageTypes: cached.listedUsageTypes,
    requests: 0,
    discoveredOn: cached.discoveredOn,
  };
}

/**
 * What to keep of tonight's discovery for the rest of `month`, or undefined when there is nothing
 * worth keeping: the config pins both names, discovery was incomplete, or it found no EKS service
 * (or no hybrid usage type, when those are not pinned), so the next night looks again.
 */
export function namesToKeep(names: CostNames, month: string, today: string): CachedCostNames | undefined {
  if (!names.requests || names.discoveredOn || names.note || !names.services.length) return undefined;
  const usageTypes = names.usageTypesFrom === 'discovery' ? names.usageTypes : [];
  if (names.usageTypesFrom === 'discovery' && !usageTypes.length) return undefined;
  return {
    month,
    discoveredOn: today,
    services: names.services,
    usageTypes,
    listedServices: names.listedServices,
    listedUsageTypes: names.listedUsageTypes,
  };
}

/**
 * Finds the Cost Explorer names to ask about for `period` (ISO days, end exclusive): the
 * configured ones when set, else EKS's SERVICE value(s) and then, within them, the hybrid
 * vCPU usage type(s). Makes no request for what the config pins.
 */
export async function costNames(
  ce: CostExplorerClient,
  options: { start: string; end: string; service?: string; usageTypes?: string[]; maxPages?: number },
): Promise<CostNames> {
  let requests = 0;
  const notes: string[] = [];
  const maxPages = options.maxPages ?? MAX_DIMENSION_PAGES;
  const list = async (request: GetDimensionValuesRequest): Promise<string[]> => {
    const values: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      // The service model: NextPageToken comes when there are more values than one page holds.
      const page = await ce.send(new GetDimensionValuesCommand(token ? { ...request, NextPageToken: token } : request));
      requests += 1;
      pages += 1;
      values.push(...(page.DimensionValues ?? []).flatMap((v) => (v.Value ? [v.Value] : [])));
      token = page.NextPageToken;
      if (token && pages >= maxPages) {
        notes.push(`the ${request.Dimension} list stopped after ${pages} pages (${page.TotalSize ?? '?'} values)`);
        token = undefined;
      }
    } while (token);
    return [...new Set(values)].sort();
  };
  const base = {
    TimePeriod: { Start: options.start, End: options.end },
    Context: Context.COST_AND_USAGE,
  };

  const listedServices = options.service ? [] : await list({ ...base, Dimension: Dimension.SERVICE });
  const services = options.service ? [options.service] : listedServices.filter(isEksService);
  const listedUsageTypes =
    options.usageTypes || !services.length
      ? []
      : await list({
          ...base,
          Dimension: Dimension.USAGE_TYPE,
          Filter: { Dimensions: { Key: Dimension.SERVICE, Values: services } },
        });
  return {
    services,
    servicesFrom: options.service ? 'config' : 'discovery',
    usageTypes: options.usageTypes ?? hybridUsageTypes(listedUsageTypes),
    usageTypesFrom: options.usageTypes ? 'config' : 'discovery',
    listedServices,
    listedUsageTypes,
    requests,
    ...(notes.length ? { note: `Discovery incomplete: ${notes.join('; ')}.` } : {}),
  };
}

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(', ');
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** What a finding says about the names it is about: which matched, and where they came from. */
export function describeNames(names: CostNames): string {
  const services = count(names.listedServices.length, 'service');
  const usageTypes = count(names.listedUsageTypes.length, 'usage type');
  const when = names.discoveredOn ? ` on ${names.discoveredOn}, kept for the month,` : '';
  const service =
    names.servicesFrom === 'config'
      ? `Cost Explorer SERVICE ${quoted(names.services)} (set in config: sweep.costService)`
      : names.services.length
        ? `Cost Explorer SERVICE ${quoted(names.services)} (discovered${when} among ${services})`
        : `no EKS SERVICE among the ${services} Cost Explorer lists`;
  const usage =
    names.usageTypesFrom === 'config'
      ? `hybrid usage type(s) ${quoted(names.usageTypes)} (set in config: sweep.hybridUsageTypes)`
      : names.usageTypes.length
        ? `hybrid usage type(s) ${quoted(names.usageTypes)} (discovered${when} among ${usageTypes})`
        : names.services.length
          ? `no hybrid usage type among its ${usageTypes} (${names.listedUsageTypes.join(', ') || 'none'})`
          : '';
  return [service, usage, names.note].filter(Boolean).join('; ');
}
