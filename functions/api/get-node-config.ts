import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { apiHandler } from '../commons/api-handler';
import { getNodeConfig } from '../../lib/onboarding/status';

/** `GET /nodes/{requestId}/nodeconfig` (AWS_IAM): the NodeConfig and the two nodeadm commands. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient, ssm: SSMClient }, (event, rt) =>
  getNodeConfig(
    { sfn: rt.clients.sfn, ssm: rt.clients.ssm, settings: rt.settings },
    event.pathParameters?.requestId ?? '',
    event.requestContext?.identity?.userArn ?? '',
  ),
);
