import { DataUnavailableException } from '@aws-sdk/client-cost-explorer';
import { awsError, type SandboxEstate, type ServiceHandlers } from '../estate';

/**
 * Cost Explorer, simulated from the estate: hybrid vCPU-hours are what the Nodes that exist
 * have run (each since it was created, up to the sandbox clock's now), plus the seed's untracked
 * vCPUs, at the seed's price; other usage types bill a fixed amount a day. The forecast carries
 * the current hourly rate to the end of the period.
 */

const HOUR = 3600_000;
/** A YYYY-MM-DD day's start, or NaN: strict, as Cost Explorer is (no `2026-11`, no `2026-11-31`). */
const dayStart = (day: string) => {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === day ? ms : Number.NaN;
};
const meta = { $metadata: {} };

function costSeed(estate: SandboxEstate) {
  const seed = estate.seed.costExplorer;
  if (!seed) {
    throw awsError(
      'ce',
      'AccessDeniedException',
      'Cost Explorer is not enabled for this account (the sandbox seed has no costExplorer).',
    );
  }
  return seed;
}

function period(input: Record<string, unknown>): { start: number; end: number } {
  const tp = (input.TimePeriod ?? {}) as { Start?: string; End?: string };
  const start = dayStart(tp.Start ?? '');
  const end = dayStart(tp.End ?? '');
  if (Number.isNaN(start) || Number.isNaN(end)) {
    throw awsError('ce', 'ValidationException', 'TimePeriod Start and End must be dates (YYYY-MM-DD).');
  }
  if (end <= start) throw awsError('ce', 'ValidationException', 'Start date should be before end date.');
  return { start, end };
}

const service = (input: Record<string, unknown>) =>
  ((input.Filter as { Dimensions?: { Key?: string; Values?: string[] } } | undefined)?.Dimensions?.Values ?? [])[0];

const EKS = 'Amazon Elastic Kubernetes Service';

/** vCPU-hours billed in [from, to): every Node for the hours it existed, and the untracked vCPUs. */
function vcpuHours(estate: SandboxEstate, from: number, to: number): number {
  const seed = costSeed(estate);
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, to) - Math.max(a, from)) / HOUR;
  const now = estate.clock.now().getTime();
  let hours = seed.untrackedVcpus * overlap(from, now);
  for (const node of Object.values(estate.state.nodes)) {
    hours += Number(node.capacity.cpu) * overlap(Date.parse(node.createdAt), now);
  }
  return hours;
}

export const ceHandlers: ServiceHandlers = {
  GetCostAndUsage(estate, input) {
    const seed = costSeed(estate);
    const { start, end } = period(input);
    const now = estate.clock.now().getTime();
    if (start > now) throw awsError('ce', 'ValidationException', 'The start date is in the future.');
    const groups =
      service(input) === EKS
        ? [
            { usageType: seed.hybridUsageType, hours: vcpuHours(estate, start, end), price: seed.pricePerVcpuHour },
            ...seed.otherUsage.map((u) => ({
              usageType: u.usageType,
              hours: (Math.min(end, now) - start) / HOUR,
              price: u.usdPerDay / 24,
            })),
          ]
        : [];
    return {
      GroupDefinitions: [{ Type: 'DIMENSION', Key: 'USAGE_TYPE' }],
      ResultsByTime: [
        {
          TimePeriod: (input.TimePeriod as object) ?? {},
          Total: {},
          Groups: groups.map((g) => ({
            Keys: [g.usageType],
            Metrics: {
              UnblendedCost: { Amount: (g.hours * g.price).toFixed(10), Unit: 'USD' },
              UsageQuantity: { Amount: g.hours.toFixed(10), Unit: 'N/A' },
            },
          })),
          Estimated: true,
        },
      ],
      DimensionValueAttributes: [],
    };
  },

  GetCostForecast(estate, input) {
    const seed = costSeed(estate);
    if (!seed.forecast) {
      throw new DataUnavailableException({
        ...meta,
        message: 'Insufficient amount of historical data to generate forecast.',
      });
    }
    const { start, end } = period(input);
    if (service(input) !== EKS) return { Total: { Amount: '0', Unit: 'USD' }, ForecastResultsByTime: [] };
    const vcpus =
      seed.untrackedVcpus + Object.values(estate.state.nodes).reduce((s, n) => s + Number(n.capacity.cpu), 0);
    const perHour = vcpus * seed.pricePerVcpuHour + seed.otherUsage.reduce((s, u) => s + u.usdPerDay / 24, 0);
    const amount = (perHour * (end - start)) / HOUR;
    return {
      Total: { Amount: amount.toFixed(10), Unit: 'USD' },
      ForecastResultsByTime: [{ TimePeriod: input.TimePeriod, MeanValue: amount.toFixed(10) }],
    };
  },
};
