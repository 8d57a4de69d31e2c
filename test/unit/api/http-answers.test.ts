import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { errorAnswer, proxyResult } from '#functions/commons/http-answers';
import {
  ClientTokenReusedError,
  NodeConfigNotIssuedError,
  NotRequesterError,
  OnboardingEndedError,
  RequestNotFoundError,
  RequestRejectedError,
} from '#lib/errors';
import { startReconcile } from '#lib/network/api';
import { getNodeConfig, getOnboarding } from '#lib/onboarding/status';
import { settings } from '#test/helpers/onboarding-fixtures';

const sfnMock = mockClient(SFNClient);
beforeEach(() => sfnMock.reset());

describe('HTTP answers', () => {
  it.each([
    [new RequestRejectedError('bad'), 400],
    [new NotRequesterError('not yours', { fix: 'ask as yourself' }), 403],
    [new RequestNotFoundError('none', { fix: 'use the id POST /nodes returned' }), 404],
    [new NodeConfigNotIssuedError('not yet', { fix: 'poll' }), 409],
    [new ClientTokenReusedError('reused', { fix: 'new token' }), 409],
    [new OnboardingEndedError('ended', { fix: 'submit again' }), 410],
  ])('answer a refusal the domain threw with its status: %s', (error, status) => {
    expect(errorAnswer(error, 'api-request-1').statusCode).toBe(status);
  });

  it('say the problem as the message, then what else the refusal lists, then the fix', () => {
    const answer = errorAnswer(
      new ClientTokenReusedError('Reused.', { fix: 'Use a new token.', details: { requestId: 'r-1' } }),
      undefined,
    );

    expect(answer).toEqual({
      statusCode: 409,
      body: { message: 'Reused.', requestId: 'r-1', fix: 'Use a new token.' },
    });
    expect(Object.keys(answer.body)).toEqual(['message', 'requestId', 'fix']);
    expect(errorAnswer(new RequestRejectedError('Bad.'), undefined).body).toEqual({ message: 'Bad.' });
  });

  it('ask to retry after the refusal says', () => {
    const answer = errorAnswer(new NodeConfigNotIssuedError('Not yet.', { fix: 'Poll.', retryAfterSeconds: 10 }), '');

    expect(proxyResult(answer).headers).toEqual({ 'content-type': 'application/json', 'retry-after': '10' });
  });

  it('answer anything else 500, or 503 with retry-after when AWS is throttling, naming the request', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    expect(errorAnswer(new Error('boom'), 'api-request-1')).toEqual({
      statusCode: 500,
      body: { message: 'Internal error; nothing was started.', requestId: 'api-request-1' },
    });
    expect(errorAnswer(throttled, 'api-request-1')).toMatchObject({ statusCode: 503, headers: { 'retry-after': '5' } });
  });
});

describe('the API functions of the domain', () => {
  it('refuse with named errors, not HTTP answers', async () => {
    const deps = { sfn: new SFNClient({ region: 'ap-northeast-2' }), ssm: undefined as never, settings: settings() };

    await expect(getOnboarding(deps, 'GPU_Node/../x')).rejects.toBeInstanceOf(RequestRejectedError);
    await expect(getNodeConfig(deps, 'GPU_Node/../x', 'arn:aws:iam::111122223333:user/alice')).rejects.toBeInstanceOf(
      RequestRejectedError,
    );
    await expect(
      startReconcile(
        { sfn: deps.sfn, stateMachineArn: 'arn:aws:states:ap-northeast-2:111122223333:stateMachine:r' },
        {
          body: '{"mode":"delete"}',
          requester: 'arn:aws:iam::111122223333:user/alice',
        },
      ),
    ).rejects.toThrow('mode must be plan or apply, not "delete"; nothing was started.');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });
});
