import type { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import type { DnsLookup } from '../net/dns';
import { checkNameResolution, resolutionProblem } from '../net/resolution';
import { mustGet, type RunStore } from '../store';
import type { SweepFinding } from './findings';
import type { CheckPart } from './state';
import { runKeys } from './store';
import type { NightInventory } from './sweep-inventory';

/** Step CheckSweepDns: resolution both ways (an on-prem name from AWS, an AWS name through the inbound endpoint). */
export async function checkSweepDns(
  deps: { dns: DnsLookup; resolver: Route53ResolverClient; store: RunStore },
  input: { sweepId: string; enabled: boolean },
): Promise<CheckPart> {
  const { desired } = await mustGet<NightInventory>(deps.store, runKeys(input.sweepId).inventory);
  const key = runKeys(input.sweepId).findings('connectivity-dns');
  const declared = desired.clusters.filter((c) => c.dns?.checks);
  let findings: SweepFinding[];
  let checked = 0;
  if (!input.enabled) {
    findings = declared.map((c) => ({
      id: `connectivity:dns-checks-off:${c.name}`,
      check: 'connectivity',
      cluster: c.name,
      severity: 'info',
      resource: 'dns-checks',
      message: 'DNS resolution was not checked: the check function is not deployed in the cluster VPC.',
      fix: 'Deploy with --param resolutionChecks=true and vpcSubnetIds / vpcSecurityGroupIds in the cluster VPC.',
    }));
  } else {
    const checks = await checkNameResolution({ dns: deps.dns, resolver: deps.resolver }, desired);
    checked = checks.length;
    findings = checks
      .filter((c) => !c.ok)
      .map((c) => ({
        id: `connectivity:dns:${c.cluster}:${c.direction}:${c.name}`,
        check: 'connectivity',
        cluster: c.cluster,
        severity: 'critical',
        resource: `${c.name} (${c.direction})`,
        ...resolutionProblem(c),
        evidence: `Asked ${c.via}: ${c.error ?? 'no answer'}.`,
      }));
  }
  await deps.store.putJson(key, findings);
  return { key, findings: findings.length, summary: { checked } };
}
