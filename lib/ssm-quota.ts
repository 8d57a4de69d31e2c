import {
  GetServiceSettingCommand,
  type GetServiceSettingCommandOutput,
  InstanceInformationFilterKey,
  paginateDescribeInstanceInformation,
  ResourceType,
  ServiceSettingNotFound,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from './aws/page-sizes';
import { ActivationTierUnreadableError, isTransientAwsError } from './errors';

/**
 * SSM's limit on hybrid-activated (on-prem) managed instances. "You can register up to 1,000
 * standard hybrid-activated nodes per account per AWS Region at no additional cost. However,
 * registering more than 1,000 hybrid nodes requires that you activate the advanced-instances
 * tier" (SSM user guide, "Configuring instance tiers",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-configure-instance-tiers.html).
 * Every registered instance counts, whatever its ping status (an offline server is still
 * registered); a deregistered one does not.
 */
export const SSM_STANDARD_TIER_INSTANCES = 1000;

/**
 * The service setting that holds the account's tier, `standard` or `advanced` (SSM API reference,
 * GetServiceSetting / UpdateServiceSetting; the SDK model's UpdateServiceSettingRequest.SettingValue).
 */
export const ACTIVATION_TIER_SETTING = '/ssm/managed-instance/activation-tier';

/** The setting's ARN, as IAM authorizes GetServiceSetting on it and update-service-setting takes it. */
export const activationTierSettingArn = (region: string, account: string) =>
  `arn:aws:ssm:${region}:${account}:servicesetting${ACTIVATION_TIER_SETTING}`;

export type ActivationTier = 'standard' | 'advanced';

export interface ManagedInstanceQuota {
  tier: ActivationTier;
  /** On-prem managed instances registered in the account and Region (ResourceType ManagedInstance). */
  registered: number;
  /** How many the tier allows; absent: no limit (advanced). */
  limit?: number;
  /** The setting's ARN as SSM returned it (for the fix's command); absent when SSM named none. */
  settingArn?: string;
}

/**
 * The account's activation tier: one GetServiceSetting. A setting SSM has not provisioned
 * (`ServiceSettingNotFound`) is the default, standard. Throttling and 5xx propagate as they are
 * (the callers retry them as transient); any other failure, and a value that is neither tier, is
 * {@link ActivationTierUnreadableError}: never read as "advanced", which would lift the limit.
 */
export async function readActivationTier(ssm: SSMClient): Promise<{ tier: ActivationTier; settingArn?: string }> {
  let answer: GetServiceSettingCommandOutput;
  try {
    answer = await ssm.send(new GetServiceSettingCommand({ SettingId: ACTIVATION_TIER_SETTING }));
  } catch (error) {
    if (error instanceof ServiceSettingNotFound) return { tier: 'standard' };
    if (isTransientAwsError(error)) throw error;
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new ActivationTierUnreadableError(
      `SSM's activation tier (${ACTIVATION_TIER_SETTING}) could not be read: ${name}: ${message}. The limit of ${SSM_STANDARD_TIER_INSTANCES.toLocaleString('en-US')} on-prem managed instances of the standard tier was not checked.`,
      `Allow ssm:GetServiceSetting on arn:aws:ssm:<region>:<account>:servicesetting${ACTIVATION_TIER_SETTING} to this function's role (resources/function-roles.js grants it), then try again.`,
      { cause: error },
    );
  }
  const value = answer.ServiceSetting?.SettingValue?.toLowerCase();
  const settingArn = answer.ServiceSetting?.ARN;
  if (value !== 'standard' && value !== 'advanced') {
    throw new ActivationTierUnreadableError(
      `SSM's activation tier (${ACTIVATION_TIER_SETTING}) is '${answer.ServiceSetting?.SettingValue ?? ''}', neither standard nor advanced.`,
      'Check the setting: aws ssm get-service-setting --setting-id /ssm/managed-instance/activation-tier',
    );
  }
  return { tier: value, ...(settingArn ? { settingArn } : {}) };
}

/**
 * How many on-prem managed instances are registered in the account and Region:
 * DescribeInstanceInformation filtered by ResourceType ManagedInstance (EC2 instances are
 * `EC2Instance`), page by page at the largest page size (50). `onPage` counts the pages.
 */
export async function countManagedInstances(ssm: SSMClient, onPage: () => void = () => {}): Promise<number> {
  let registered = 0;
  for await (const page of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: PAGE_SIZE.ssmDescribeInstanceInformation },
    { Filters: [{ Key: InstanceInformationFilterKey.RESOURCE_TYPE, Values: [ResourceType.MANAGED_INSTANCE] }] },
  )) {
    onPage();
    registered += (page.InstanceInformationList ?? []).length;
  }
  return registered;
}

/** The quota from a tier and a count. */
export function quotaOf(tier: { tier: ActivationTier; settingArn?: string }, registered: number): ManagedInstanceQuota {
  return {
    tier: tier.tier,
    registered,
    ...(tier.tier === 'standard' ? { limit: SSM_STANDARD_TIER_INSTANCES } : {}),
    ...(tier.settingArn ? { settingArn: tier.settingArn } : {}),
  };
}

/**
 * The account's tier and its registered on-prem managed instances. Costs one GetServiceSetting
 * and one DescribeInstanceInformation per 50 instances (1 + ceil(n / 50) calls: 21 at 1,000).
 */
export async function readManagedInstanceQuota(ssm: SSMClient): Promise<ManagedInstanceQuota> {
  const tier = await readActivationTier(ssm);
  return quotaOf(tier, await countManagedInstances(ssm));
}

const count = (n: number) => n.toLocaleString('en-US');

/** The fix when the standard tier is (nearly) full: the advanced tier, or fewer instances. */
export function quotaFix(quota: Pick<ManagedInstanceQuota, 'settingArn'>): string {
  const arn = quota.settingArn ?? `arn:aws:ssm:<region>:<account>:servicesetting${ACTIVATION_TIER_SETTING}`;
  return `Switch the account and Region to SSM's advanced-instances tier (paid per instance-hour, see AWS Systems Manager pricing): aws ssm update-service-setting --setting-id ${arn} --setting-value advanced; or deregister managed instances no longer used (aws ssm deregister-managed-instance --instance-id mi-...).`;
}

/** undefined when `adding` more instances fit; else what is wrong and the fix (advanced tier). */
export function quotaProblem(quota: ManagedInstanceQuota, adding: number): string | undefined {
  if (quota.limit === undefined || quota.registered + adding <= quota.limit) return undefined;
  const room = Math.max(0, quota.limit - quota.registered);
  return `SSM's standard tier allows ${count(quota.limit)} on-prem managed instances per account and Region; ${count(quota.registered)} are registered, so ${room === 0 ? 'no more' : `only ${count(room)} more`} can join, and this request adds ${count(adding)}. Fix: ${quotaFix(quota)}`;
}
