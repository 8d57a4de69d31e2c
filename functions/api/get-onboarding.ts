import { SFNClient } from '@aws-sdk/client-sfn';
import { apiHandler } from '../commons/api-handler';
import { getOnboarding } from '../../lib/onboarding/status';

/** `GET /nodes/{requestId}` (AWS_IAM): status, phase, and result or error of one onboarding. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient }, (event, rt) =>
  getOnboarding({ sfn: rt.clients.sfn, settings: rt.settings }, event.pathParameters?.requestId ?? ''),
);
