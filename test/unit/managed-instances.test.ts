import {
  DeregisterManagedInstanceCommand,
  DescribeInstanceInformationCommand,
  InvalidInstanceId,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { deregisterManagedInstance } from '#lib/managed-instances';

const ID = 'mi-0123456789abcdef0';
const ssm = mockClient(SSMClient);

/** What IAM answers a tag-conditioned grant for an instance without the tag (or without any). */
const accessDenied = () =>
  new SSMServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `User: arn:aws:sts::111122223333:assumed-role/cleanup/fn is not authorized to perform: ssm:DeregisterManagedInstance on resource: arn:aws:ssm:ap-northeast-2:111122223333:managed-instance/${ID}`,
  });
const listed = (ids: string[]) => ({ InstanceInformationList: ids.map((InstanceId) => ({ InstanceId })) });

beforeEach(() => ssm.reset());

describe('deregisterManagedInstance', () => {
  it('deregisters a registered instance with one call', async () => {
    ssm.on(DeregisterManagedInstanceCommand).resolves({});
    await expect(deregisterManagedInstance(new SSMClient({}), ID)).resolves.toBe('deregistered');
    expect(ssm).toHaveReceivedCommandTimes(DeregisterManagedInstanceCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(DeregisterManagedInstanceCommand, { InstanceId: ID });
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
  });

  it("takes SSM's InvalidInstanceId for an instance gone already", async () => {
    ssm
      .on(DeregisterManagedInstanceCommand)
      .rejects(new InvalidInstanceId({ $metadata: {}, message: 'Instance Id is invalid' }));
    await expect(deregisterManagedInstance(new SSMClient({}), ID)).resolves.toBe('already gone');
  });

  it('takes an AccessDenied for "gone" once SSM no longer lists the instance', async () => {
    ssm.on(DeregisterManagedInstanceCommand).rejects(accessDenied());
    ssm.on(DescribeInstanceInformationCommand).resolves(listed([]));
    await expect(deregisterManagedInstance(new SSMClient({}), ID)).resolves.toBe('already gone');
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: [ID] }],
      MaxResults: 5,
    });
  });

  it('throws the AccessDenied of an instance SSM still lists: a real refusal', async () => {
    ssm.on(DeregisterManagedInstanceCommand).rejects(accessDenied());
    ssm.on(DescribeInstanceInformationCommand).resolves(listed([ID]));
    await expect(deregisterManagedInstance(new SSMClient({}), ID)).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});
