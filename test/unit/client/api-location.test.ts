import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
  StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { ApiLookupError, apiLocation } from '#cli/client/api-location';
import { UsageError } from '#cli/local-runtime';

const EXECUTE_API = 'https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev/';
const KEY = { accessKeyId: 'AKIDLOOKUP', secretAccessKey: 'lookup-secret' };
const ALICE = 'arn:aws:sts::123456789012:assumed-role/team-one/alice';
const deps = { credentials: KEY, identity: async () => ALICE };
const cfn = mockClient(CloudFormationClient);

beforeEach(() => cfn.reset());

/** The error CloudFormation's Query protocol gives for an unmodelled code, as the SDK builds it. */
const queryError = (name: string, message: string) =>
  new CloudFormationServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });

describe('apiLocation', () => {
  it('takes --api over HYBRIDOPS_API, and the region from an execute-api URL', async () => {
    await expect(
      apiLocation({ api: EXECUTE_API }, { HYBRIDOPS_API: 'https://other.example/x', AWS_REGION: 'us-east-1' }, deps),
    ).resolves.toEqual({
      base: 'https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev',
      region: 'ap-northeast-2',
    });
    expect((await apiLocation({}, { HYBRIDOPS_API: EXECUTE_API }, deps)).region).toBe('ap-northeast-2');
    expect(cfn.calls()).toHaveLength(0);
  });

  it('signs for --region, else AWS_REGION, when the URL names none (a custom domain, localhost)', async () => {
    await expect(apiLocation({ api: 'http://localhost:8080', region: 'eu-west-1' }, {}, deps)).resolves.toEqual({
      base: 'http://localhost:8080',
      region: 'eu-west-1',
    });
    expect((await apiLocation({ api: 'https://api.example.com/ops' }, { AWS_REGION: 'us-west-2' }, deps)).region).toBe(
      'us-west-2',
    );
  });

  it.each([
    [{ api: undefined }, /Pass --api <url>, set HYBRIDOPS_API, or give --stage/],
    [{ api: 'not a url' }, /--api must be a URL/],
    [{ api: 'http://api.example.com/dev', region: 'eu-west-1' }, /--api must be https/],
    [{ api: EXECUTE_API, region: 'us-east-1' }, /does not match the API's region ap-northeast-2/],
    [{ api: 'https://api.example.com/dev', region: undefined }, /--region is needed/],
  ])('refuses %j as a usage error that says what to do', async (values, message) => {
    await expect(apiLocation({ region: 'eu-west-1', ...values }, {}, deps)).rejects.toThrow(message);
    expect(cfn.calls()).toHaveLength(0);
  });
});

describe('apiLocation from the deployed stack (--stage)', () => {
  it('reads the ServiceEndpoint output of stack eks-hybrid-ops-<stage> in the region given', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'eks-hybrid-ops-prod',
          StackStatus: StackStatus.UPDATE_COMPLETE,
          CreationTime: new Date(),
          Outputs: [
            { OutputKey: 'ServerlessDeploymentBucketName', OutputValue: 'bucket' },
            { OutputKey: 'ServiceEndpoint', OutputValue: 'https://xyz789.execute-api.eu-west-1.amazonaws.com/prod' },
          ],
        },
      ],
    });

    const where = await apiLocation({ stage: 'prod', region: 'eu-west-1' }, {}, deps);

    expect(where).toEqual({ base: 'https://xyz789.execute-api.eu-west-1.amazonaws.com/prod', region: 'eu-west-1' });
    expect(cfn.calls()).toHaveLength(1);
    expect(cfn.call(0).args[0].input).toEqual({ StackName: 'eks-hybrid-ops-prod' });
    const client = cfn.call(0).thisValue as CloudFormationClient;
    await expect(client.config.region()).resolves.toBe('eu-west-1');
  });

  it('asks in AWS_REGION when no --region is given', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'eks-hybrid-ops-dev',
          StackStatus: StackStatus.CREATE_COMPLETE,
          CreationTime: new Date(),
          Outputs: [
            { OutputKey: 'ServiceEndpoint', OutputValue: 'https://abc123.execute-api.us-west-2.amazonaws.com/dev' },
          ],
        },
      ],
    });

    const where = await apiLocation({ stage: 'dev' }, { AWS_REGION: 'us-west-2' }, deps);

    expect(where.region).toBe('us-west-2');
    await expect((cfn.call(0).thisValue as CloudFormationClient).config.region()).resolves.toBe('us-west-2');
  });

  it("says a stack that does not exist is not deployed there (CloudFormation's ValidationError): a usage error", async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(queryError('ValidationError', 'Stack with id eks-hybrid-ops-qa does not exist'));

    const lookup = apiLocation({ stage: 'qa', region: 'ap-northeast-2' }, {}, deps);

    await expect(lookup).rejects.toThrow(UsageError);
    await expect(lookup).rejects.toThrow(
      "no stack eks-hybrid-ops-qa in ap-northeast-2: is stage 'qa' deployed there? (CloudFormation: Stack with id eks-hybrid-ops-qa does not exist)",
    );
  });

  it('says which identity lacks cloudformation:DescribeStacks when access is denied', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        queryError(
          'AccessDenied',
          `User: ${ALICE} is not authorized to perform: cloudformation:DescribeStacks on resource: arn:aws:cloudformation:ap-northeast-2:123456789012:stack/eks-hybrid-ops-dev/*`,
        ),
      );

    const lookup = apiLocation({ stage: 'dev', region: 'ap-northeast-2' }, {}, deps);

    await expect(lookup).rejects.toThrow(ApiLookupError);
    await expect(lookup).rejects.toThrow(
      `cannot read stack eks-hybrid-ops-dev in ap-northeast-2: ${ALICE} lacks cloudformation:DescribeStacks on it`,
    );
  });

  it('says a stack without the ServiceEndpoint output has no API yet, with its status', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'eks-hybrid-ops-dev',
          StackStatus: StackStatus.CREATE_IN_PROGRESS,
          CreationTime: new Date(),
        },
      ],
    });

    await expect(apiLocation({ stage: 'dev', region: 'ap-northeast-2' }, {}, deps)).rejects.toThrow(
      'stack eks-hybrid-ops-dev in ap-northeast-2 (CREATE_IN_PROGRESS) has no ServiceEndpoint output',
    );
  });
});
