import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { OnboardingInProgressError } from '#lib/errors';
import { acquireNodeLock, releaseNodeLock } from '#lib/node-lock';
import { LOCK_PARAMETER } from '#test/helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);
const ssm = () => new SSMClient({ region: 'ap-northeast-2' });
const now = new Date('2026-11-22T00:00:00.000Z');
const holder = () => ({ requestId: 'gpu-node-01-aaaaaaaaaaaa', expiresAt: '2026-11-23T00:50:00.000Z' });
const lockValue = (requestId: string, expiresAt: string) => JSON.stringify({ requestId, expiresAt });
const alreadyExists = () => new ParameterAlreadyExists({ $metadata: {}, message: 'The parameter already exists.' });
const puts = () => ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input);

describe('acquireNodeLock', () => {
  beforeEach(() => ssmMock.reset());

  it('creates a new lock atomically (Overwrite false) and reads nothing', async () => {
    ssmMock.on(PutParameterCommand).resolves({ Version: 1 });

    await acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now);

    expect(puts()).toEqual([
      {
        Name: '/eks-hybrid-ops/test/locks/gpu-hybrid-cluster/gpu-node-01',
        Type: 'String',
        Value: '{"requestId":"gpu-node-01-aaaaaaaaaaaa","expiresAt":"2026-11-23T00:50:00.000Z"}',
        Overwrite: false,
      },
    ]);
    expect(ssmMock).not.toHaveReceivedCommand(GetParameterCommand);
  });

  it('refuses a lock another live request holds, and leaves it as it is', async () => {
    ssmMock.on(PutParameterCommand, { Overwrite: false }).rejects(alreadyExists());
    ssmMock.on(PutParameterCommand, { Overwrite: true }).resolves({ Version: 2 });
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: lockValue('gpu-node-01-bbbbbbbbbbbb', '2026-11-22T06:00:00.000Z') } });

    const attempt = acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now);

    await expect(attempt).rejects.toBeInstanceOf(OnboardingInProgressError);
    await expect(attempt).rejects.toMatchObject({
      name: 'OnboardingInProgressError',
      message: expect.stringContaining('Request gpu-node-01-bbbbbbbbbbbb is already onboarding this node'),
    });
    expect(ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: LOCK_PARAMETER }]);
    expect(puts()).toEqual([expect.objectContaining({ Overwrite: false })]);
  });

  it.each([
    ['offboarding', 'offboardings'],
    ['upgrade', 'upgrades'],
  ])('names an %s that holds the node, and where to follow it', async (workflow, path) => {
    ssmMock.on(PutParameterCommand, { Overwrite: false }).rejects(alreadyExists());
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({ requestId: 'off-gpu-node-01-cccc', expiresAt: '2026-11-22T06:00:00.000Z', workflow }),
      },
    });

    await expect(acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now)).rejects.toMatchObject({
      name: 'NodeBusyError',
      message: expect.stringMatching(
        new RegExp(`The ${workflow} off-gpu-node-01-cccc holds this node .*GET /${path}/off-gpu-node-01-cccc`),
      ),
    });
  });

  it.each([
    ['expired an hour ago', '2026-11-21T23:00:00.000Z'],
    ['expiring this very moment', '2026-11-22T00:00:00.000Z'],
  ])('takes over a stale lock (%s): deletes it, then creates it again with Overwrite false', async (_, staleExpiry) => {
    ssmMock.on(PutParameterCommand).rejectsOnce(alreadyExists()).resolves({ Version: 1 });
    ssmMock.on(DeleteParameterCommand).resolves({});
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: lockValue('gpu-node-01-cccccccccccc', staleExpiry) } });

    await acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now);

    const value = lockValue('gpu-node-01-aaaaaaaaaaaa', '2026-11-23T00:50:00.000Z');
    expect(puts()).toEqual([
      { Name: LOCK_PARAMETER, Type: 'String', Value: value, Overwrite: false },
      { Name: LOCK_PARAMETER, Type: 'String', Value: value, Overwrite: false },
    ]);
    expect(ssmMock).toHaveReceivedCommandWith(DeleteParameterCommand, { Name: LOCK_PARAMETER });
  });

  it('loses a stale lock to the request that took it over first', async () => {
    ssmMock.on(PutParameterCommand).rejects(alreadyExists());
    ssmMock.on(DeleteParameterCommand).resolves({});
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: lockValue('gpu-node-01-cccccccccccc', '2026-11-21T23:00:00.000Z') } })
      .resolves({ Parameter: { Value: lockValue('gpu-node-01-dddddddddddd', '2026-11-23T00:50:00.000Z') } });

    await expect(acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now)).rejects.toMatchObject({
      name: 'OnboardingInProgressError',
      message: expect.stringContaining('gpu-node-01-dddddddddddd'),
    });
    expect(puts().map((p) => p.Overwrite)).toEqual([false, false]);
  });

  it('lets the request that holds the lock take it again (a retried preflight)', async () => {
    ssmMock.on(PutParameterCommand, { Overwrite: false }).rejects(alreadyExists());
    ssmMock.on(PutParameterCommand, { Overwrite: true }).resolves({ Version: 2 });
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: lockValue('gpu-node-01-aaaaaaaaaaaa', '2026-11-23T00:50:00.000Z') } });

    await acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now);

    expect(puts().map((p) => p.Overwrite)).toEqual([false, true]);
  });

  it.each([
    ['gone by the time it is read', () => ssmMock.on(GetParameterCommand).rejects(notFound())],
    ['unreadable', () => ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'not json' } })],
  ])('takes a lock whose parameter is %s', async (_, arrange) => {
    ssmMock.on(PutParameterCommand).rejectsOnce(alreadyExists()).resolves({ Version: 1 });
    ssmMock.on(DeleteParameterCommand).rejects(notFound());
    arrange();

    await acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now);

    expect(puts().map((p) => p.Overwrite)).toEqual([false, false]);
  });

  it('passes on an error other than ParameterAlreadyExists without reading the lock', async () => {
    ssmMock
      .on(PutParameterCommand)
      .rejects(
        new SSMServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'denied' }),
      );

    await expect(acquireNodeLock(ssm(), LOCK_PARAMETER, holder(), now)).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(ssmMock).not.toHaveReceivedCommand(GetParameterCommand);
    expect(puts()).toHaveLength(1);
  });
});

function notFound() {
  return new ParameterNotFound({ $metadata: {}, message: 'Parameter not found.' });
}

describe('releaseNodeLock', () => {
  beforeEach(() => ssmMock.reset());

  it('deletes the lock this request holds', async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: lockValue('gpu-node-01-aaaaaaaaaaaa', '2026-11-23T00:50:00.000Z') } });
    ssmMock.on(DeleteParameterCommand).resolves({});

    await expect(releaseNodeLock(ssm(), LOCK_PARAMETER, 'gpu-node-01-aaaaaaaaaaaa')).resolves.toBe(true);

    expect(ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: LOCK_PARAMETER }]);
    expect(ssmMock.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: LOCK_PARAMETER },
    ]);
  });

  it('leaves a lock another request holds', async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: lockValue('gpu-node-01-bbbbbbbbbbbb', '2026-11-23T00:50:00.000Z') } });

    await expect(releaseNodeLock(ssm(), LOCK_PARAMETER, 'gpu-node-01-aaaaaaaaaaaa')).resolves.toBe(false);
    expect(ssmMock).not.toHaveReceivedCommand(DeleteParameterCommand);
  });

  it('has nothing to release when there is no lock', async () => {
    ssmMock.on(GetParameterCommand).rejects(notFound());

    await expect(releaseNodeLock(ssm(), LOCK_PARAMETER, 'gpu-node-01-aaaaaaaaaaaa')).resolves.toBe(false);
    expect(ssmMock).not.toHaveReceivedCommand(DeleteParameterCommand);
  });

  it('counts a lock deleted between read and delete as released', async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: lockValue('gpu-node-01-aaaaaaaaaaaa', '2026-11-23T00:50:00.000Z') } });
    ssmMock.on(DeleteParameterCommand).rejects(notFound());

    await expect(releaseNodeLock(ssm(), LOCK_PARAMETER, 'gpu-node-01-aaaaaaaaaaaa')).resolves.toBe(true);
  });
});
