import { ssmTierFindings } from '#lib/sweep/ssm-tier-findings';

const ARN = 'arn:aws:ssm:ap-northeast-2:111122223333:servicesetting/ssm/managed-instance/activation-tier';
const standard = (registered: number) => ({ tier: 'standard' as const, registered, limit: 1000, settingArn: ARN });
const ACCOUNT = 'account 111122223333';

describe("the sweep's SSM standard-tier finding", () => {
  it('finds nothing below 90% of the standard tier (899)', () => {
    expect(ssmTierFindings(standard(899), ACCOUNT)).toEqual([]);
  });

  it('warns at 90% (900), with the advanced-tier command', () => {
    expect(ssmTierFindings(standard(900), ACCOUNT)).toEqual([
      {
        id: 'compliance:ssm-standard-tier:account 111122223333',
        check: 'compliance',
        cluster: ACCOUNT,
        severity: 'warning',
        resource: ARN,
        message:
          "900 of the 1,000 on-prem managed instances SSM's standard tier allows in this account and Region are registered (90%): 100 more can join.",
        evidence: expect.stringContaining('ResourceType ManagedInstance: 900 registered'),
        fix: expect.stringContaining(`aws ssm update-service-setting --setting-id ${ARN} --setting-value advanced`),
      },
    ]);
  });

  it('is critical once full (1,000), under the same id so it pages again as worse', () => {
    const [full] = ssmTierFindings(standard(1000), ACCOUNT);
    expect(full).toMatchObject({ id: 'compliance:ssm-standard-tier:account 111122223333', severity: 'critical' });
    expect(full?.message).toContain('no more server can register, and POST /nodes refuses onboardings');
  });

  it('finds nothing on the advanced tier', () => {
    expect(ssmTierFindings({ tier: 'advanced', registered: 5000 }, ACCOUNT)).toEqual([]);
  });

  it('warns that the tier could not be read, never reading it as advanced', () => {
    const found = ssmTierFindings(
      {
        problem: {
          error: 'ActivationTierUnreadableError',
          message: "SSM's activation tier could not be read: AccessDeniedException: denied.",
          fix: 'Allow ssm:GetServiceSetting',
        },
      },
      ACCOUNT,
    );
    expect(found).toEqual([
      expect.objectContaining({
        id: 'compliance:ssm-tier-unreadable:account 111122223333',
        severity: 'warning',
        fix: 'Allow ssm:GetServiceSetting',
      }),
    ]);
  });
});
