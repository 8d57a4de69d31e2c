/** Exponential backoff for poll loops: first, first*rate, ... capped at max, in whole seconds. */
export function backoffSeconds(attempt: number, first: number, max: number, rate: number): number {
  return Math.min(max, Math.round(first * rate ** Math.max(0, attempt)));
}
