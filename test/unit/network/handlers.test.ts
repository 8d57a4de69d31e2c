import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import * as reportNetwork from '#functions/reconcile-network/report-network';
import * as reportNetworkFailure from '#functions/reconcile-network/report-network-failure';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { ManualClock } from '#lib/clock';
import { InvalidRequestError } from '#lib/errors';
import type { Runtime } from '#lib/runtime';
import { settings } from '#test/helpers/onboarding-fixtures';

const s3Mock = mockClient(S3Client);
beforeEach(() => s3Mock.reset());

const rt = (): Runtime => ({
  settings: { ...settings(), storeBucket: 'eks-hybrid-ops-test-store' },
  clients: createAllAwsClients({ region: 'ap-northeast-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  clock: new ManualClock('2026-11-22T18:00:00Z'),
  nodes: () => {
    throw new Error('must not read Nodes');
  },
  prober: { tcpConnectSamples: () => Promise.reject(new Error('must not probe')) },
});

const RUN_ID = '20261122T180000Z-a1b2c3';
const plans = [
  { kind: 'resolver', key: `runs/reconcile-${RUN_ID}/plan-resolver.json`, actions: 0, conflicts: 0, findings: 0 },
];
const directory = {
  cluster: 'gpu-hybrid-cluster',
  parameter: '/eks-hybrid-ops/test/efs/gpu-hybrid-cluster/mount-targets',
  result: 'published',
  directory: { fileSystemId: 'fs-0123456789abcdef0', mountOptions: 'vers=4.1', mountTargets: [] },
};
const check = {
  cluster: 'gpu-hybrid-cluster',
  direction: 'aws-to-on-prem',
  name: 'harbor.company.local',
  via: 'the VPC resolver',
  answers: [],
  ok: false,
  error: 'ENOTFOUND',
};
const reportInput = { mode: 'apply', loaded: { runId: RUN_ID }, plans };
const failureInput = { mode: 'apply', loaded: { runId: RUN_ID }, failure: { Error: 'StoreError' } };

describe('reconcile-network Task handlers', () => {
  // What PublishMountTargets and CheckResolution hand on is checked against their schemas, not taken as it comes.
  it.each([
    ['report-network (published)', () => reportNetwork.run({ ...reportInput, published: [42] }, rt())],
    [
      'report-network (a directory without its IPs)',
      () => reportNetwork.run({ ...reportInput, published: [{ ...directory, directory: {} }] }, rt()),
    ],
    [
      'report-network (resolution checks)',
      () => reportNetwork.run({ ...reportInput, resolution: { checks: [{ ok: 'yes' }], findings: [] } }, rt()),
    ],
    [
      'report-network (a check in no direction)',
      () =>
        reportNetwork.run(
          { ...reportInput, resolution: { checks: [{ ...check, direction: 'sideways' }], findings: [] } },
          rt(),
        ),
    ],
    [
      'report-network-failure (published)',
      () => reportNetworkFailure.run({ ...failureInput, published: 'all of it' }, rt()),
    ],
  ])('%s: malformed input is InvalidRequestError, and nothing is read', async (_, call) => {
    const attempt = call();
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(attempt).rejects.toThrow('The task input is malformed:');
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('takes what PublishMountTargets and CheckResolution return', async () => {
    s3Mock.rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
    const attempt = reportNetwork.run(
      { ...reportInput, published: [directory], resolution: { checks: [check], findings: [] } },
      rt(),
    );
    // Past validation: it reads the plan from the run store (which has none here).
    await expect(attempt).rejects.toThrow(`The run store object ${plans[0]?.key} is missing.`);
  });
});
