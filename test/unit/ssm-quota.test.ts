import {
  DescribeInstanceInformationCommand,
  GetServiceSettingCommand,
  type InstanceInformation,
  ServiceSettingNotFound,
  SSMClient,
  SSMServiceException,
  ThrottlingException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ActivationTierUnreadableError } from '#lib/errors';
import {
  ACTIVATION_TIER_SETTING,
  type ManagedInstanceQuota,
  quotaProblem,
  readManagedInstanceQuota,
  SSM_STANDARD_TIER_INSTANCES,
} from '#lib/ssm-quota';

const ARN = 'arn:aws:ssm:ap-northeast-2:111122223333:servicesetting/ssm/managed-instance/activation-tier';
const standard = (registered: number): ManagedInstanceQuota => ({
  tier: 'standard',
  registered,
  limit: SSM_STANDARD_TIER_INSTANCES,
  settingArn: ARN,
});

describe('quotaProblem', () => {
  it('lets the 1,000th instance in (999 + 1)', () => {
    expect(quotaProblem(standard(999), 1)).toBeUndefined();
  });

  it('refuses the 1,001st (1,000 + 1) with the advanced-tier command and the deregister fix', () => {
    const problem = quotaProblem(standard(1000), 1);
    expect(problem).toContain('1,000 are registered, so no more can join, and this request adds 1');
    expect(problem).toContain(`aws ssm update-service-setting --setting-id ${ARN} --setting-value advanced`);
    expect(problem).toContain('paid per instance-hour');
    expect(problem).toContain('aws ssm deregister-managed-instance');
  });

  it('counts a fleet as a whole: 995 + 5 fits, 995 + 6 does not', () => {
    expect(quotaProblem(standard(995), 5)).toBeUndefined();
    expect(quotaProblem(standard(995), 6)).toContain('only 5 more can join, and this request adds 6');
  });

  it('has no limit on the advanced tier', () => {
    expect(quotaProblem({ tier: 'advanced', registered: 25_000 }, 100)).toBeUndefined();
  });

  it('names the setting ARN with placeholders when SSM gave none', () => {
    expect(quotaProblem({ tier: 'standard', registered: 1000, limit: 1000 }, 1)).toContain(
      '--setting-id arn:aws:ssm:<region>:<account>:servicesetting/ssm/managed-instance/activation-tier',
    );
  });
});

describe('readManagedInstanceQuota', () => {
  const ssm = mockClient(SSMClient);
  beforeEach(() => ssm.reset());

  const instances = (from: number, n: number): InstanceInformation[] =>
    Array.from({ length: n }, (_, i) => ({ InstanceId: `mi-${String(from + i).padStart(17, '0')}` }));
  const setting = (SettingValue: string) => ({
    ServiceSetting: { SettingId: ACTIVATION_TIER_SETTING, SettingValue, ARN, Status: 'Default' },
  });

  it('reads the tier and counts every page of on-prem managed instances', async () => {
    ssm.on(GetServiceSettingCommand).resolves(setting('standard'));
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({ InstanceInformationList: instances(0, 50), NextToken: 'page-2' })
      .resolvesOnce({ InstanceInformationList: [], NextToken: 'page-3' }) // an empty page that is not the last
      .resolvesOnce({ InstanceInformationList: instances(50, 7) });

    await expect(readManagedInstanceQuota(new SSMClient({}))).resolves.toEqual(standard(57));

    expect(ssm).toHaveReceivedCommandTimes(GetServiceSettingCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(GetServiceSettingCommand, { SettingId: ACTIVATION_TIER_SETTING });
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 3);
    const filters = [{ Key: 'ResourceType', Values: ['ManagedInstance'] }];
    expect(ssm).toHaveReceivedNthSpecificCommandWith(1, DescribeInstanceInformationCommand, {
      Filters: filters,
      MaxResults: 50,
    });
    expect(ssm).toHaveReceivedNthSpecificCommandWith(3, DescribeInstanceInformationCommand, {
      Filters: filters,
      MaxResults: 50,
      NextToken: 'page-3',
    });
  });

  it('gives the advanced tier no limit', async () => {
    ssm.on(GetServiceSettingCommand).resolves(setting('advanced'));
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: instances(0, 3) });
    await expect(readManagedInstanceQuota(new SSMClient({}))).resolves.toEqual({
      tier: 'advanced',
      registered: 3,
      settingArn: ARN,
    });
  });

  it('reads a setting SSM never provisioned as the default, standard', async () => {
    ssm.on(GetServiceSettingCommand).rejects(new ServiceSettingNotFound({ $metadata: {}, message: 'not found' }));
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: instances(0, 2) });
    await expect(readManagedInstanceQuota(new SSMClient({}))).resolves.toEqual({
      tier: 'standard',
      registered: 2,
      limit: 1000,
    });
  });

  it('names AccessDenied as ActivationTierUnreadableError, never as advanced', async () => {
    const denied = new SSMServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'User is not authorized to perform: ssm:GetServiceSetting',
    });
    ssm.on(GetServiceSettingCommand).rejects(denied);
    const read = readManagedInstanceQuota(new SSMClient({}));
    await expect(read).rejects.toBeInstanceOf(ActivationTierUnreadableError);
    await expect(read).rejects.toThrow(
      /AccessDeniedException: User is not authorized.*Fix: Allow ssm:GetServiceSetting/,
    );
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 0);
  });

  it('lets throttling through as it is, for the caller to retry as transient', async () => {
    ssm
      .on(GetServiceSettingCommand)
      .rejects(new ThrottlingException({ $metadata: {}, Message: 'Rate exceeded', message: 'Rate exceeded' }));
    await expect(readManagedInstanceQuota(new SSMClient({}))).rejects.toBeInstanceOf(ThrottlingException);
  });

  it('refuses a value that is neither tier', async () => {
    ssm.on(GetServiceSettingCommand).resolves(setting('premium'));
    await expect(readManagedInstanceQuota(new SSMClient({}))).rejects.toThrow(
      /is 'premium', neither standard nor advanced/,
    );
  });
});
