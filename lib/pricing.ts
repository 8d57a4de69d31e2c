/**
 * What hybrid nodes cost. EKS Hybrid Nodes bill per vCPU-hour while the Kubernetes Node object
 * exists (REFERENCE.md sections 5 and 7). Money is computed in integer micro-dollars, so the
 * seed's figures come out exactly, not within a float's error.
 */

/** USD per vCPU-hour (February 2025), the default; a stage can configure another. */
export const HYBRID_VCPU_HOUR_USD = 0.1099;
/** Hours in a billing month, as the seed and AWS's examples count them. */
export const HOURS_PER_MONTH = 730;

/** USD as integer micro-dollars, and back to USD rounded to the cent. */
export const micro = (amount: number) => Math.round(amount * 1_000_000);
export const cents = (microUsd: number) => Math.round(microUsd / 10_000) / 100;

/** `1234.5` -> `"1,234.50 USD"`. */
export const usd = (amount: number) => `${amount.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} USD`;

/**
 * Monthly cost of `vcpus` vCPUs in USD, to the cent.
 * - `exact`: vCPUs x price x 730 h, rounded once at the end (224 vCPU: 17,970.85).
 * - `per-vcpu-month`: the seed's way, the per-vCPU month rounded to cents first
 *   (0.1099 x 730 = 80.227 -> 80.23; 224 vCPU: 17,971.52).
 */
export function monthlyCost(
  vcpus: number,
  options: { pricePerVcpuHour?: number; rounding?: 'exact' | 'per-vcpu-month' } = {},
): number {
  const price = micro(options.pricePerVcpuHour ?? HYBRID_VCPU_HOUR_USD);
  if (options.rounding === 'per-vcpu-month') {
    const perVcpuMonthCents = Math.round((price * HOURS_PER_MONTH) / 10_000);
    return (vcpus * perVcpuMonthCents) / 100;
  }
  return cents(vcpus * price * HOURS_PER_MONTH);
}

/** Cost of `vcpus` vCPUs for `hours` hours, in USD to the cent (e.g. a NotReady node's day). */
export function costForHours(vcpus: number, hours: number, pricePerVcpuHour = HYBRID_VCPU_HOUR_USD): number {
  return cents(vcpus * micro(pricePerVcpuHour) * hours);
}

/** The vCPUs a Node reports as capacity (`"224"`, or millicores like `"3500m"`). */
export function vcpusOf(capacity: string | undefined): number {
  if (!capacity) return 0;
  return capacity.endsWith('m') ? Number(capacity.slice(0, -1)) / 1000 : Number(capacity);
}
