import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { getFleetNodeConfigs } from '#lib/fleets/status';
import { apiHandler } from '../commons/api-handler';
import { ok } from '../commons/http-answers';

/** `GET /fleets/{fleetId}/nodeconfigs` (AWS_IAM): every ready NodeConfig of the fleet with its commands, never cached. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient, ssm: SSMClient }, async (event, rt) =>
  ok(
    await getFleetNodeConfigs(
      { sfn: rt.clients.sfn, ssm: rt.clients.ssm, settings: rt.settings },
      event.pathParameters?.fleetId ?? '',
      event.requestContext?.identity?.userArn ?? '',
    ),
    { 'cache-control': 'no-store' },
  ),
);
