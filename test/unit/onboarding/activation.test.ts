import {
  CreateActivationCommand,
  DeleteActivationCommand,
  DescribeActivationsCommand,
  InvalidActivation,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ManualClock } from '#lib/clock';
import { ActivationRejectedError, HybridRolePropagationError } from '#lib/errors';
import { deleteActivation, issueActivation, ROLE_NOT_VISIBLE_MESSAGE } from '#lib/onboarding/activation';
import { assertOnboardingRequest } from '#lib/onboarding/request';

const ssmMock = mockClient(SSMClient);
const settings = { hybridNodesRoleName: 'AmazonEKSHybridNodesRole', parameterPrefix: '/eks-hybrid-ops/test' };
const clusterArn = 'arn:aws:eks:ap-northeast-2:111122223333:cluster/gpu-hybrid-cluster';

const input = () => ({
  requestId: 'gpu-node-01-abcdef012345',
  requester: 'arn:aws:iam::111122223333:user/alice',
  request: assertOnboardingRequest(
    { cluster: 'gpu-hybrid-cluster', node: { name: 'gpu-node-01', ip: '192.168.10.21', os: 'ubuntu-22.04' } },
    'hybridops.io',
  ),
  clusterArn,
  expiresAt: '2026-11-23T00:00:00.000Z',
});

describe('issueActivation', () => {
  beforeEach(() => ssmMock.reset());
  const deps = () => ({
    ssm: new SSMClient({ region: 'ap-northeast-2' }),
    settings,
    clock: new ManualClock('2026-11-22T00:00:00Z'),
  });

  it('creates a single-use, tagged activation and stores the code as a SecureString', async () => {
    ssmMock.on(CreateActivationCommand).resolves({ ActivationId: 'act-1', ActivationCode: 'SECRET-CODE-1234567890' });
    ssmMock.on(PutParameterCommand).resolves({ Version: 1 });

    const result = await issueActivation(deps(), input());

    expect(ssmMock).toHaveReceivedCommandWith(CreateActivationCommand, {
      IamRole: 'AmazonEKSHybridNodesRole',
      RegistrationLimit: 1,
      DefaultInstanceName: 'gpu-node-01',
      ExpirationDate: new Date('2026-11-23T00:00:00.000Z'),
      Tags: [
        { Key: 'EKSClusterARN', Value: clusterArn },
        { Key: 'hybridops:request-id', Value: 'gpu-node-01-abcdef012345' },
        { Key: 'hybridops:node-name', Value: 'gpu-node-01' },
        { Key: 'hybridops:node-ip', Value: '192.168.10.21' },
        { Key: 'hybridops:requester', Value: 'arn:aws:iam::111122223333:user/alice' },
      ],
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345/activation-code',
      Type: 'SecureString',
      Value: 'SECRET-CODE-1234567890',
      Overwrite: true,
    });
    expect(result).toEqual({
      activationId: 'act-1',
      codeParameter: '/eks-hybrid-ops/test/onboarding/gpu-node-01-abcdef012345/activation-code',
      expiresAt: '2026-11-23T00:00:00.000Z',
      issuedAt: '2026-11-22T00:00:00.000Z',
    });
    expect(JSON.stringify(result)).not.toContain('SECRET-CODE');
  });

  it('first deletes an activation a previous attempt of this request left, and only that one', async () => {
    ssmMock.on(DescribeActivationsCommand).resolves({
      ActivationList: [
        { ActivationId: 'act-old', Tags: [{ Key: 'hybridops:request-id', Value: 'gpu-node-01-abcdef012345' }] },
        { ActivationId: 'act-other', Tags: [{ Key: 'hybridops:request-id', Value: 'gpu-node-01-000000000000' }] },
      ],
    });
    ssmMock.on(DeleteActivationCommand).resolves({});
    ssmMock.on(CreateActivationCommand).resolves({ ActivationId: 'act-new', ActivationCode: 'SECRET-CODE-3' });
    ssmMock.on(PutParameterCommand).resolves({ Version: 1 });

    await expect(issueActivation(deps(), input())).resolves.toMatchObject({ activationId: 'act-new' });
    expect(ssmMock.commandCalls(DescribeActivationsCommand)[0]?.args[0].input).toEqual({
      Filters: [{ FilterKey: 'DefaultInstanceName', FilterValues: ['gpu-node-01'] }],
      MaxResults: 50,
    });
    expect(ssmMock.commandCalls(DeleteActivationCommand).map((c) => c.args[0].input)).toEqual([
      { ActivationId: 'act-old' },
    ]);
  });

  it('deletes the activation again when the code cannot be stored', async () => {
    ssmMock.on(CreateActivationCommand).resolves({ ActivationId: 'act-2', ActivationCode: 'SECRET-CODE-2' });
    ssmMock
      .on(PutParameterCommand)
      .rejects(
        new SSMServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'denied' }),
      );
    ssmMock.on(DeleteActivationCommand).resolves({});

    await expect(issueActivation(deps(), input())).rejects.toThrow('denied');
    expect(ssmMock).toHaveReceivedCommandWith(DeleteActivationCommand, { ActivationId: 'act-2' });
  });

  it('names the IAM propagation delay so the workflow retries it', async () => {
    ssmMock.on(CreateActivationCommand).rejects(
      new SSMServiceException({
        name: 'ValidationException',
        $fault: 'client',
        $metadata: {},
        message:
          'Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole',
      }),
    );
    await expect(issueActivation(deps(), input())).rejects.toMatchObject({ name: 'HybridRolePropagationError' });
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('matches the message AWS documents for a role SSM cannot see, word for word', () => {
    expect(ROLE_NOT_VISIBLE_MESSAGE).toBe('Nonexistent role or missing ssm service principal in trust policy');
  });

  it.each([
    "1 validation error detected: Value 'arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole' at 'iamRole' failed to satisfy constraint: Member must satisfy regular expression pattern",
    'The IAM role for the activation is not valid.',
    'Invalid principal in policy',
  ])('fails fast with ActivationRejectedError on another ValidationException naming the role: %s', async (message) => {
    ssmMock.on(CreateActivationCommand).rejects(new ValidationException({ $metadata: {}, message }));

    const attempt = issueActivation(deps(), input());

    await expect(attempt).rejects.toBeInstanceOf(ActivationRejectedError);
    await expect(attempt).rejects.not.toBeInstanceOf(HybridRolePropagationError);
    await expect(attempt).rejects.toThrow(
      `SSM rejected the activation: ${message}. Fix: Check the hybrid nodes role name (AmazonEKSHybridNodesRole: a role name with its path, not an ARN) and the request.`,
    );
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });
});

describe('deleteActivation', () => {
  beforeEach(() => ssmMock.reset());

  it('counts an activation that is already gone as deleted', async () => {
    ssmMock.on(DeleteActivationCommand).rejects(new InvalidActivation({ $metadata: {}, message: 'not valid' }));
    await expect(deleteActivation(new SSMClient({}), 'act-3')).resolves.toBe('already-gone');
  });
});
