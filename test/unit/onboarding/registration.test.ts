import {
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationRequest,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ManualClock } from '#lib/clock';
import { RegistrationTimeoutError } from '#lib/errors';
import { checkRegistration, MAX_REGISTRATION_POLLS } from '#lib/onboarding/registration';
import { ACTIVATION_ID, INSTANCE_ID } from '#test/helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);
const EXPIRES_AT = '2026-11-23T00:00:00.000Z';

const deps = (now = '2026-11-22T00:10:00Z') => ({
  ssm: new SSMClient({ region: 'ap-northeast-2' }),
  clock: new ManualClock(now),
});
const input = (attempt = 0) => ({
  activationId: ACTIVATION_ID,
  activationExpiresAt: EXPIRES_AT,
  nodeName: 'gpu-node-01',
  attempt,
});

describe('checkRegistration', () => {
  beforeEach(() => ssmMock.reset());

  it('asks SSM for instances registered with exactly this activation, 50 a page (the most SSM gives)', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

    await checkRegistration(deps(), input());

    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Key: 'ActivationIds', Values: [ACTIVATION_ID] }], MaxResults: 50 },
    ]);
  });

  it('reads on past empty pages that carry a NextToken: SSM filters each page it reads', async () => {
    const requests: Array<string | undefined> = [];
    ssmMock.on(DescribeInstanceInformationCommand).callsFake((request: DescribeInstanceInformationRequest) => {
      requests.push(request.NextToken);
      if (request.NextToken === undefined) return { InstanceInformationList: [], NextToken: 'page-2' };
      if (request.NextToken === 'page-2') return { InstanceInformationList: [], NextToken: 'page-3' };
      return { InstanceInformationList: [{ InstanceId: INSTANCE_ID, ActivationId: ACTIVATION_ID }] };
    });

    const state = await checkRegistration(deps(), input());

    expect(requests).toEqual([undefined, 'page-2', 'page-3']);
    expect(state).toMatchObject({ registered: true, instance: { instanceId: INSTANCE_ID } });
  });

  it('reports the registered managed instance', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [
        {
          InstanceId: INSTANCE_ID,
          ActivationId: ACTIVATION_ID,
          PingStatus: 'Online',
          PlatformName: 'Ubuntu',
          PlatformVersion: '22.04',
          IPAddress: '192.168.10.21',
          RegistrationDate: new Date('2026-11-22T00:07:30Z'),
        },
      ],
    });

    await expect(checkRegistration(deps(), input(2))).resolves.toEqual({
      registered: true,
      attempt: 3,
      nextWaitSeconds: 0,
      instance: {
        instanceId: INSTANCE_ID,
        platform: 'Ubuntu 22.04',
        ipAddress: '192.168.10.21',
        registeredAt: '2026-11-22T00:07:30.000Z',
      },
    });
  });

  it('takes the time of the poll when SSM gives no registration date', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE_ID }] });

    const state = await checkRegistration(deps('2026-11-22T00:10:00Z'), input());

    expect(state.instance).toEqual({ instanceId: INSTANCE_ID, registeredAt: '2026-11-22T00:10:00.000Z' });
  });

  it('reports an instance that registered just before expiry even when polled after it', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [{ InstanceId: INSTANCE_ID, RegistrationDate: new Date('2026-11-22T23:59:00Z') }],
    });

    const state = await checkRegistration(deps('2026-11-23T00:03:00Z'), input(40));

    expect(state).toMatchObject({ registered: true, instance: { registeredAt: '2026-11-22T23:59:00.000Z' } });
  });

  it.each([
    [0, 15],
    [1, 30],
    [2, 60],
    [3, 120],
    [4, 240],
    [5, 300],
    [6, 300],
  ])('after poll %p finds nothing, waits %p s (backing off to the 5-minute SSM heartbeat)', async (attempt, wait) => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

    await expect(checkRegistration(deps(), input(attempt))).resolves.toEqual({
      registered: false,
      attempt: attempt + 1,
      nextWaitSeconds: wait,
    });
  });

  it.each([
    ['2026-11-22T23:58:20Z', 100],
    ['2026-11-22T23:59:59Z', 1],
  ])('never waits past the activation expiry (polled at %s, waits %p s)', async (now, wait) => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({});

    const state = await checkRegistration(deps(now), input(9));

    expect(state).toEqual({ registered: false, attempt: 10, nextWaitSeconds: wait });
  });

  it.each([
    ['at', '2026-11-23T00:00:00Z'],
    ['after', '2026-11-23T01:00:00Z'],
  ])('fails with RegistrationTimeoutError when nothing registered %s expiry', async (_, now) => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

    const attempt = checkRegistration(deps(now), input(30));

    await expect(attempt).rejects.toBeInstanceOf(RegistrationTimeoutError);
    await expect(attempt).rejects.toThrow(
      `No server registered with activation ${ACTIVATION_ID} for gpu-node-01 before it expired at ${EXPIRES_AT} (31 polls).`,
    );
  });
});

describe('checkRegistration poll budget', () => {
  // A Standard execution stops at 25,000 history events; each poll is about 9.
  it.each([24, 24 * 7, 24 * 30])(
    'polls at most MAX_REGISTRATION_POLLS times for a %i-hour activation',
    async (hours) => {
      const ssm = new SSMClient({ region: 'ap-northeast-2' });
      const mock = mockClient(ssm);
      mock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
      const clock = new ManualClock('2026-11-22T00:00:00Z');
      const expiresAt = new Date(Date.parse('2026-11-22T00:00:00Z') + hours * 3600_000).toISOString();
      let attempt = 0;
      let timedOut = false;
      while (!timedOut) {
        try {
          const state = await checkRegistration(
            { ssm, clock },
            { activationId: 'act-1', activationExpiresAt: expiresAt, nodeName: 'gpu-node-01', attempt },
          );
          attempt = state.attempt;
          expect(state.nextWaitSeconds).toBeGreaterThan(0);
          clock.advance(state.nextWaitSeconds);
        } catch (error) {
          expect((error as Error).name).toBe('RegistrationTimeoutError');
          timedOut = true;
        }
      }
      expect(attempt).toBeLessThanOrEqual(MAX_REGISTRATION_POLLS);
      expect(attempt).toBeGreaterThan(hours === 24 ? 250 : 1000);
      mock.restore();
    },
  );
});
