import type { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import type { DesiredState } from '../desired-state/schema';
import type { DnsLookup } from '../net/dns';
import { checkNameResolution, type ResolutionCheck, resolutionProblem } from '../net/resolution';
import type { Finding } from './plan';

/**
 * Checks DNS both ways where AWS can check it ({@link checkNameResolution}); each failure is a
 * finding with the fix.
 */
export async function checkResolution(
  deps: { dns: DnsLookup; resolver: Route53ResolverClient },
  desired: DesiredState,
): Promise<{ checks: ResolutionCheck[]; findings: Finding[] }> {
  const checks = await checkNameResolution(deps, desired);
  const findings: Finding[] = checks
    .filter((c) => !c.ok)
    .map((c) => ({ cluster: c.cluster, severity: 'critical', resource: c.name, ...resolutionProblem(c) }));
  return { checks, findings };
}
