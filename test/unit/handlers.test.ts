import { tcpProber } from '#lib/net/probe';
import { DescribeClusterCommand, EKSClient, EKSServiceException } from '@aws-sdk/client-eks';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { apiEvent } from '../helpers/api-event';
import * as checkRegistration from '#functions/onboard-node/check-registration';
import * as cleanUpOnboarding from '#functions/onboard-node/clean-up-onboarding';
import * as getNodeConfig from '#functions/api/get-node-config';
import * as preflight from '#functions/onboard-node/preflight';
import * as submitOnboarding from '#functions/api/submit-onboarding';
import { ManualClock } from '#lib/clock';
import { AwsTransientError, InvalidRequestError } from '#lib/errors';
import { logger } from '#lib/logger';
import { installRuntime } from '#functions/commons/runtime';
import type { Runtime } from '#lib/runtime';
import {
  ACTIVATION_ID,
  activationResult,
  fakeNodes,
  gpuRequestBody,
  lambdaContext,
  onboardingInput,
  REGION,
  REQUEST_ID,
  settings,
} from '../helpers/onboarding-fixtures';

const ssmMock = mockClient(SSMClient);
const eksMock = mockClient(EKSClient);
const sfnMock = mockClient(SFNClient);

function runtimeWith(now = '2026-11-22T00:10:00Z'): Runtime {
  return {
    settings: settings(),
    // The real client factory: every client mockClient intercepts, loaded on first use.
    clients: createAllAwsClients({ region: REGION }),
    clock: new ManualClock(now),
    nodes: fakeNodes().factory,
    prober: tcpProber,
  };
}

/** CheckRegistration's input as the workflow hands it over after StartRegistrationWait. */
const checkRegistrationInput = () => ({
  ...onboardingInput(),
  activation: activationResult(),
  registration: { registered: false, attempt: 0, nextWaitSeconds: 15 },
});

const throttled = () =>
  new SSMServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Rate exceeded' });

let logged: jest.SpyInstance;

beforeEach(() => {
  ssmMock.reset();
  eksMock.reset();
  sfnMock.reset();
  logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
});

afterEach(() => {
  installRuntime(undefined);
  logged.mockRestore();
});

describe('Task handlers: run', () => {
  it.each([
    ['check-registration', () => checkRegistration.run({ activation: activationResult() }, runtimeWith())],
    [
      'preflight',
      () =>
        preflight.run(
          { requestId: 'Not A Request Id', requester: 'x', requestDigest: 'd', request: {} },
          runtimeWith(),
        ),
    ],
    ['clean-up-onboarding', () => cleanUpOnboarding.run({ requestId: REQUEST_ID }, runtimeWith())],
  ])('%s rejects malformed input with InvalidRequestError and calls no AWS API', async (_, call) => {
    const attempt = call();

    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(attempt).rejects.toThrow('The task input is malformed:');
    expect(ssmMock).not.toHaveReceivedAnyCommand();
    expect(eksMock).not.toHaveReceivedAnyCommand();
  });

  it('names every malformed field', async () => {
    await expect(checkRegistration.run({ activation: activationResult() }, runtimeWith())).rejects.toThrow(
      /registration: .*request: /,
    );
  });

  it('check-registration polls with the activation from its input', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

    await expect(checkRegistration.run(checkRegistrationInput(), runtimeWith())).resolves.toEqual({
      registered: false,
      attempt: 1,
      nextWaitSeconds: 15,
    });
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Key: 'ActivationIds', Values: [ACTIVATION_ID] }], MaxResults: 50 },
    ]);
  });
});

describe('Task handlers: the middy handler', () => {
  it('turns an SDK ThrottlingException into AwsTransientError, keeping the cause', async () => {
    installRuntime(runtimeWith());
    ssmMock.on(DescribeInstanceInformationCommand).rejects(throttled());

    const attempt = checkRegistration.handler(checkRegistrationInput(), lambdaContext('check-registration'));

    await expect(attempt).rejects.toBeInstanceOf(AwsTransientError);
    await expect(attempt).rejects.toMatchObject({
      name: 'AwsTransientError',
      message: expect.stringContaining('AWS answered ThrottlingException: Rate exceeded'),
      cause: expect.objectContaining({ name: 'ThrottlingException' }),
    });
    expect(logged).toHaveBeenCalledWith('task failed', {
      errorName: 'AwsTransientError',
      errorMessage: expect.stringContaining('ThrottlingException'),
    });
  });

  it('does the same for an EKS throttle in preflight', async () => {
    installRuntime(runtimeWith());
    eksMock
      .on(DescribeClusterCommand)
      .rejects(
        new EKSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Slow down' }),
      );

    await expect(preflight.handler(onboardingInput(), lambdaContext('preflight'))).rejects.toMatchObject({
      name: 'AwsTransientError',
    });
  });

  it('leaves an error that will not go away by retrying as it is', async () => {
    installRuntime(runtimeWith());
    ssmMock.on(DescribeInstanceInformationCommand).rejects(
      new SSMServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized',
      }),
    );

    await expect(
      checkRegistration.handler(checkRegistrationInput(), lambdaContext('check-registration')),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('keeps the name of a domain error, which the workflow matches on', async () => {
    installRuntime(runtimeWith('2026-11-23T00:00:00Z'));
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

    await expect(
      checkRegistration.handler(checkRegistrationInput(), lambdaContext('check-registration')),
    ).rejects.toMatchObject({ name: 'RegistrationTimeoutError' });
    expect(logged).toHaveBeenCalledWith(
      'task failed',
      expect.objectContaining({ errorName: 'RegistrationTimeoutError' }),
    );
  });

  it('rejects malformed input with InvalidRequestError through the chain too', async () => {
    installRuntime(runtimeWith());

    await expect(checkRegistration.handler({}, lambdaContext('check-registration'))).rejects.toMatchObject({
      name: 'InvalidRequestError',
    });
  });
});

describe('API handlers', () => {
  it('answers 503 with retry-after when AWS throttles, starting nothing', async () => {
    eksMock
      .on(DescribeClusterCommand)
      .rejects(
        new EKSServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: {}, message: 'Slow down' }),
      );

    const result = await submitOnboarding.run(apiEvent({ body: JSON.stringify(gpuRequestBody()) }), runtimeWith());

    expect(result).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '5' },
      body: JSON.stringify({
        message: 'AWS is throttling or unavailable; nothing was started. Retry shortly.',
        requestId: 'api-request-0001',
      }),
    });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('reads a base64-encoded body', async () => {
    const body = Buffer.from(JSON.stringify({ ...gpuRequestBody(), cluster: 'other-cluster' })).toString('base64');

    const result = await submitOnboarding.run(apiEvent({ body, isBase64Encoded: true }), runtimeWith());

    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).problems).toEqual([
      { field: 'cluster', message: "this deployment onboards nodes into 'gpu-hybrid-cluster' only" },
    ]);
  });

  it('merges the answer headers over the JSON content type', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: JSON.stringify(onboardingInput()) });
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: { Value: JSON.stringify({ nodeConfig: 'kind: NodeConfig\n', commands: ['sudo nodeadm init'] }) },
    });
    const event = apiEvent({
      httpMethod: 'GET',
      resource: '/nodes/{requestId}/nodeconfig',
      path: `/nodes/${REQUEST_ID}/nodeconfig`,
      pathParameters: { requestId: REQUEST_ID },
    });

    const result = await getNodeConfig.run(event, runtimeWith());

    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(JSON.parse(result.body)).toMatchObject({ requestId: REQUEST_ID, node: 'gpu-node-01' });
  });
});
