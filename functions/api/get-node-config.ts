import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { getNodeConfig } from '#lib/onboarding/status';
import { apiHandler } from '../commons/api-handler';
import { ok } from '../commons/http-answers';

/** `GET /nodes/{requestId}/nodeconfig` (AWS_IAM): the NodeConfig and the commands that install it and run nodeadm, never cached. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient, ssm: SSMClient }, async (event, rt) =>
  ok(
    await getNodeConfig(
      { sfn: rt.clients.sfn, ssm: rt.clients.ssm, settings: rt.settings },
      event.pathParameters?.requestId ?? '',
      event.requestContext?.identity?.userArn ?? '',
    ),
    { 'cache-control': 'no-store' },
  ),
);
