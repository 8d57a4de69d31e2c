import { Tracer } from '@aws-lambda-powertools/tracer';
import { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { apiHandler } from '#functions/commons/api-handler';
import { ok } from '#functions/commons/http-answers';
import { awsRuntime, installRuntime } from '#functions/commons/runtime';
import { taskHandler } from '#functions/commons/task-handler';
import { tracer, tracerOptions } from '#functions/commons/tracer';
import { createAllAwsClients } from '#lib/aws/all-clients';
import { ManualClock } from '#lib/clock';
import { tcpProber } from '#lib/net/probe';
import { apiEvent } from '../helpers/api-event';
import { fakeNodes, lambdaContext, REGION, settings } from '../helpers/onboarding-fixtures';

/**
 * X-Ray through the handler wrappers: in Lambda each invocation is a subsegment annotated with the
 * ids it is about, its SDK clients are captured, and responses (an activation code, for
 * GET .../nodeconfig) never become trace metadata; outside Lambda the tracer is off.
 */

const SECRET = 'activation-code-never-traced';

/** Pretends to be in Lambda with an active segment: what the tracer middleware and annotations reach. */
function tracing() {
  const subsegment = { close: jest.fn(), addError: jest.fn(), addErrorFlag: jest.fn() };
  const segment = { addNewSubsegment: jest.fn(() => subsegment) };
  jest.spyOn(tracer, 'isTracingEnabled').mockReturnValue(true);
  jest.spyOn(tracer, 'getSegment').mockReturnValue(segment as never);
  jest.spyOn(tracer, 'setSegment').mockImplementation(() => undefined);
  const annotations = jest.spyOn(tracer, 'putAnnotation').mockImplementation(() => undefined);
  const metadata = jest.spyOn(tracer, 'putMetadata').mockImplementation(() => undefined);
  return { segment, subsegment, annotations, metadata };
}

const annotated = (spy: jest.SpyInstance) =>
  Object.fromEntries(spy.mock.calls.filter(([key]) => !['ColdStart', 'Service'].includes(key)));

beforeEach(() => {
  installRuntime({
    settings: settings(),
    clients: createAllAwsClients({ region: REGION }),
    clock: new ManualClock('2026-11-22T00:10:00Z'),
    nodes: fakeNodes().factory,
    prober: tcpProber,
  });
});

afterEach(() => {
  installRuntime(undefined);
  jest.restoreAllMocks();
});

describe('the tracer', () => {
  it('is off outside Lambda, even where AWS_EXECUTION_ENV is set (CloudShell), and left to Powertools in Lambda', () => {
    const before = process.env.AWS_EXECUTION_ENV;
    process.env.AWS_EXECUTION_ENV = 'CloudShell';
    try {
      expect(new Tracer(tracerOptions({ AWS_EXECUTION_ENV: 'CloudShell' })).isTracingEnabled()).toBe(false);
      const inLambda = tracerOptions({ AWS_LAMBDA_FUNCTION_NAME: 'eks-hybrid-ops-dev-preflight' });
      expect(inLambda).not.toHaveProperty('enabled');
      expect(new Tracer({ ...inLambda, captureHTTPsRequests: false }).isTracingEnabled()).toBe(true);
    } finally {
      if (before === undefined) delete process.env.AWS_EXECUTION_ENV;
      else process.env.AWS_EXECUTION_ENV = before;
    }
    // The one every handler uses, here in a test, outside Lambda.
    expect(tracer.isTracingEnabled()).toBe(false);
  });

  it('captures every SDK client a handler builds in Lambda', () => {
    const captured = jest.spyOn(tracer, 'captureAWSv3Client').mockImplementation((client) => client);
    const rt = awsRuntime(settings(), { ssm: SSMClient });
    expect(captured).toHaveBeenCalledWith(rt.clients.ssm);
  });
});

describe('a Task handler in Lambda', () => {
  const task = taskHandler(z.object({ requestId: z.string(), nodeName: z.string() }), {}, async () => ({
    code: SECRET,
  }));

  it('is a subsegment annotated with its request id, without its response', async () => {
    const { segment, subsegment, annotations, metadata } = tracing();
    await expect(task.handler({ requestId: 'req-0001', nodeName: 'gpu-01' }, lambdaContext())).resolves.toEqual({
      code: SECRET,
    });
    expect(segment.addNewSubsegment).toHaveBeenCalledTimes(1);
    expect(subsegment.close).toHaveBeenCalledTimes(1);
    expect(annotated(annotations)).toEqual({ requestId: 'req-0001' });
    expect(JSON.stringify(metadata.mock.calls)).not.toContain(SECRET);
  });
});

describe('an API handler in Lambda', () => {
  // As GET /nodes/{requestId} and DELETE /nodes/{requestId} (a node, there) answer.
  const api = apiHandler({}, async (event) =>
    ok({
      requestId: event.httpMethod === 'GET' ? event.pathParameters?.requestId : 'req-from-answer',
      nodeConfig: SECRET,
    }),
  );

  it('annotates a GET with the id of its path, and never traces the answer', async () => {
    const { subsegment, annotations, metadata } = tracing();
    const event = apiEvent({ httpMethod: 'GET', pathParameters: { requestId: 'req-0002' } });
    await api.handler(event, lambdaContext());
    expect(subsegment.close).toHaveBeenCalledTimes(1);
    expect(annotated(annotations)).toEqual({ requestId: 'req-0002' });
    expect(JSON.stringify(metadata.mock.calls)).not.toContain(SECRET);
  });

  it('annotates a DELETE with the request id of its answer, not the node its path names', async () => {
    const { annotations } = tracing();
    const event = apiEvent({ httpMethod: 'DELETE', pathParameters: { requestId: 'mi-0123456789abcdef0' } });
    await api.handler(event, lambdaContext());
    expect(annotations.mock.calls.filter(([key]) => key === 'requestId')).toEqual([['requestId', 'req-from-answer']]);
  });
});
