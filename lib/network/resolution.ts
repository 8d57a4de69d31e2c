import type { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import * as z from 'zod';
import type { DesiredState } from '../desired-state/schema';
import type { DnsLookup } from '../net/dns';
import { checkNameResolution, ResolutionCheckSchema, resolutionProblem } from '../net/resolution';
import { type Finding, FindingSchema } from './plan';

/** What CheckResolution hands on: each check, and a finding for each that failed. */
export const ResolutionResultSchema = z.object({
  checks: z.array(ResolutionCheckSchema),
  findings: z.array(FindingSchema),
});
export type ResolutionResult = z.infer<typeof ResolutionResultSchema>;

/**
 * Checks DNS both ways where AWS can check it ({@link checkNameResolution}); each failure is a
 * finding with the fix.
 */
export async function checkResolution(
  deps: { dns: DnsLookup; resolver: Route53ResolverClient },
  desired: DesiredState,
): Promise<ResolutionResult> {
  const checks = await checkNameResolution(deps, desired);
  const findings: Finding[] = checks
    .filter((c) => !c.ok)
    .map((c) => ({ cluster: c.cluster, severity: 'critical', resource: c.name, ...resolutionProblem(c) }));
  return { checks, findings };
}
