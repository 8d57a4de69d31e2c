import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import * as checkSweepDns from '#functions/nightly-sweep/check-sweep-dns';
import * as commitSweep from '#functions/nightly-sweep/commit-sweep';
import * as mergeSweep from '#functions/nightly-sweep/merge-sweep';
import * as probeBatch from '#functions/nightly-sweep/probe-batch';
import * as publishSweepAlerts from '#functions/nightly-sweep/publish-sweep-alerts';
import * as reportSweepFailure from '#functions/nightly-sweep/report-sweep-failure';
import * as sweepCompliance from '#functions/nightly-sweep/sweep-compliance';
import * as sweepCost from '#functions/nightly-sweep/sweep-cost';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { ManualClock } from '#lib/clock';
import { InvalidRequestError, StoreError } from '#lib/errors';
import type { Runtime } from '#lib/runtime';
import { settings } from '#test/helpers/onboarding-fixtures';

const s3Mock = mockClient(S3Client);
const ssmMock = mockClient(SSMClient);
beforeEach(() => {
  s3Mock.reset();
  ssmMock.reset();
});

function rt(overrides: Partial<Runtime['settings']> = {}): Runtime {
  return {
    settings: { ...settings(), storeBucket: 'eks-hybrid-ops-test-store', ...overrides },
    clients: createAllAwsClients({ region: 'ap-northeast-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    clock: new ManualClock('2026-11-22T18:00:00Z'),
    nodes: () => {
      throw new Error('must not read Nodes');
    },
    prober: { tcpConnectSamples: () => Promise.reject(new Error('must not probe')) },
  };
}

const ID = '20261122T180000Z-a1b2c3';

describe('nightly-sweep Task handlers', () => {
  it.each([
    ['sweep-cost', () => sweepCost.run({ sweepId: '../../etc' }, rt())],
    ['sweep-compliance', () => sweepCompliance.run({}, rt())],
    ['probe-batch', () => probeBatch.run({ sweepId: ID, batch: 'alert-memory.json' }, rt())],
    [
      'probe-batch (another night)',
      () => probeBatch.run({ sweepId: ID, batch: 'runs/20261121T180000Z-ffffff/targets/0000.json' }, rt()),
    ],
    ['check-sweep-dns', () => checkSweepDns.run({ sweepId: 42 }, rt())],
    ['merge-sweep', () => mergeSweep.run({ sweepId: ID, outcomes: [] }, rt())],
    ['merge-sweep (unknown check)', () => mergeSweep.run({ sweepId: ID, outcomes: [{ check: 'vibes' }] }, rt())],
    ['publish-sweep-alerts', () => publishSweepAlerts.run({ sweepid: ID }, rt())],
    ['commit-sweep', () => commitSweep.run({ sweepId: `${ID}/../x` }, rt())],
    ['report-sweep-failure', () => reportSweepFailure.run({ failure: { Cause: 'no error name' } }, rt())],
  ])('%s rejects malformed input with InvalidRequestError and touches nothing', async (_, call) => {
    const attempt = call();
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(attempt).rejects.toThrow('The task input is malformed:');
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('says what is wrong with a sweep id and what it must look like', async () => {
    await expect(sweepCost.run({ sweepId: 'yesterday' }, rt())).rejects.toThrow(
      'sweepId: sweepId must be the id the SweepInventory step returned, e.g. 20261122T180000Z-a1b2c3',
    );
  });

  it('refuses to run without its bucket, naming the setting', async () => {
    const attempt = commitSweep.run({ sweepId: ID }, rt({ storeBucket: undefined }));
    await expect(attempt).rejects.toBeInstanceOf(StoreError);
    await expect(attempt).rejects.toThrow('STORE_BUCKET is empty');
  });

  it('composes the failure alert from the caught error', async () => {
    const out = await reportSweepFailure.run(
      {
        failure: {
          Error: 'AccessDeniedException',
          Cause: JSON.stringify({ errorType: 'AccessDeniedException', errorMessage: 'no ssm:DescribeActivations' }),
        },
      },
      rt(),
    );
    expect(out.summary).toBe(
      'The nightly sweep failed at SweepInventory with AccessDeniedException: no ssm:DescribeActivations',
    );
    expect(out.notification).toMatchObject({
      subject: '[CRITICAL] nightly sweep failed: AccessDeniedException',
      severity: 'critical',
      cluster: 'all',
      check: 'sweep',
    });
  });
});
