import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyResult } from 'aws-lambda';
import * as getNodeConfigApi from '#functions/api/get-node-config';
import * as getOnboardingApi from '#functions/api/get-onboarding';
import * as listOnboardingsApi from '#functions/api/list-onboardings';
import * as startReconcileApi from '#functions/api/start-reconcile';
import * as submitOnboardingApi from '#functions/api/submit-onboarding';
import type { ApiAnswer } from '#functions/commons/http-answers';
import type { AwsClients } from '#lib/aws/clients';
import { systemClock } from '#lib/clock';
import type { Runtime } from '#lib/runtime';
import type { Settings } from '#lib/settings';
import { apiEvent } from './api-event';
import { settings as stageSettings } from './onboarding-fixtures';

/**
 * The API functions called as API Gateway calls them, through their handlers (so a refusal the
 * domain throws is answered as functions/commons/http-answers.ts answers it), and their answers
 * read back: the status, the body parsed, the headers besides content-type.
 */

export function answerOf(result: APIGatewayProxyResult): ApiAnswer {
  const { 'content-type': _json, ...headers } = (result.headers ?? {}) as Record<string, string>;
  return {
    statusCode: result.statusCode,
    body: JSON.parse(result.body) as Record<string, unknown>,
    ...(Object.keys(headers).length ? { headers } : {}),
  };
}

function runtime(clients: Partial<AwsClients>, settings: Settings): Runtime {
  return {
    settings,
    clients: clients as AwsClients,
    clock: systemClock,
    nodes: () => {
      throw new Error('must not read Nodes');
    },
    prober: { tcpConnectSamples: () => Promise.reject(new Error('must not probe')) },
  };
}

const caller = (userArn: string) => {
  const base = apiEvent();
  return { requestContext: { ...base.requestContext, identity: { ...base.requestContext.identity, userArn } } };
};

/** `POST /nodes`, its body sent to `baseUrl` (https://<domain>/<stage>) by `requester`. */
export async function submitOnboarding(
  deps: { clients: { sfn: SFNClient; eks: EKSClient; ec2: EC2Client }; settings: Settings },
  input: { body: string | null | undefined; requester: string; baseUrl: string },
): Promise<ApiAnswer> {
  const [domainName = '', stage = ''] = input.baseUrl.replace(/^https:\/\//, '').split('/');
  const event = caller(input.requester);
  const result = await submitOnboardingApi.run(
    apiEvent({ body: input.body ?? null, requestContext: { ...event.requestContext, domainName, stage } }),
    runtime(deps.clients, deps.settings),
  );
  return answerOf(result);
}

/** `GET /nodes/{requestId}`. */
export async function getOnboarding(deps: { sfn: SFNClient; settings: Settings }, requestId: string) {
  const event = apiEvent({ httpMethod: 'GET', pathParameters: { requestId } });
  return answerOf(await getOnboardingApi.run(event, runtime({ sfn: deps.sfn }, deps.settings)));
}

/** `GET /nodes` with `query` as its query string. */
export async function listOnboardings(
  deps: { sfn: SFNClient; settings: Settings },
  query: Record<string, string> | null,
) {
  const event = apiEvent({ httpMethod: 'GET', queryStringParameters: query });
  return answerOf(await listOnboardingsApi.run(event, runtime({ sfn: deps.sfn }, deps.settings)));
}

/** `GET /nodes/{requestId}/nodeconfig`, asked by `userArn`. */
export async function getNodeConfig(
  deps: { sfn: SFNClient; ssm: SSMClient; settings: Settings },
  requestId: string,
  userArn: string,
) {
  const event = apiEvent({ httpMethod: 'GET', pathParameters: { requestId }, ...caller(userArn) });
  return answerOf(await getNodeConfigApi.run(event, runtime({ sfn: deps.sfn, ssm: deps.ssm }, deps.settings)));
}

/** `POST /reconcile`, by `requester`, on a stage whose reconcile state machine is `stateMachineArn`. */
export async function startReconcile(
  deps: { sfn: SFNClient; stateMachineArn?: string },
  input: { body: string | null | undefined; requester: string },
) {
  const event = apiEvent({ body: input.body ?? null, ...caller(input.requester) });
  const settings = { ...stageSettings(), reconcileStateMachineArn: deps.stateMachineArn };
  return answerOf(await startReconcileApi.run(event, runtime({ sfn: deps.sfn }, settings)));
}
