import { type ManagedInstanceQuota, quotaFix } from '../ssm-quota';
import type { SweepFinding } from './findings';

/** Registered on-prem instances at or above this share of the standard tier's limit: a warning. */
export const SSM_TIER_WARNING_SHARE = 0.9;

/**
 * The account's on-prem managed instances against SSM's standard tier (1,000 per account and
 * Region): a warning from 90% of it, critical once it is full (no server can register, and POST
 * /nodes refuses). Nothing on the advanced tier. A tier that could not be read is a warning of its
 * own, never read as advanced. `account` is the findings' cluster (`account <id>`).
 */
export function ssmTierFindings(
  quota: ManagedInstanceQuota | { problem: { error: string; message: string; fix?: string } } | undefined,
  account: string,
): SweepFinding[] {
  if (!quota) return [];
  const base = { check: 'compliance' as const, cluster: account };
  if ('problem' in quota) {
    return [
      {
        ...base,
        id: `compliance:ssm-tier-unreadable:${account}`,
        severity: 'warning',
        resource: '/ssm/managed-instance/activation-tier',
        message: `${quota.problem.message} (${quota.problem.error})`,
        fix:
          quota.problem.fix ??
          'Allow ssm:GetServiceSetting on the activation-tier setting to the sweep inventory role.',
      },
    ];
  }
  if (quota.limit === undefined || quota.registered < quota.limit * SSM_TIER_WARNING_SHARE) return [];
  const full = quota.registered >= quota.limit;
  const share = Math.floor((quota.registered / quota.limit) * 100);
  const count = (n: number) => n.toLocaleString('en-US');
  return [
    {
      ...base,
      id: `compliance:ssm-standard-tier:${account}`,
      severity: full ? 'critical' : 'warning',
      resource: quota.settingArn ?? '/ssm/managed-instance/activation-tier',
      message: full
        ? `${count(quota.registered)} on-prem managed instances are registered in this account and Region, the ${count(quota.limit)} SSM's standard tier allows: no more server can register, and POST /nodes refuses onboardings.`
        : `${count(quota.registered)} of the ${count(quota.limit)} on-prem managed instances SSM's standard tier allows in this account and Region are registered (${share}%): ${count(quota.limit - quota.registered)} more can join.`,
      evidence: `DescribeInstanceInformation with ResourceType ManagedInstance: ${count(quota.registered)} registered (every team's, whatever their ping status); /ssm/managed-instance/activation-tier is ${quota.tier}.`,
      fix: quotaFix(quota),
    },
  ];
}
