import { SFNClient } from '@aws-sdk/client-sfn';
import { getOnboarding } from '#lib/onboarding/status';
import { apiHandler } from '../commons/api-handler';
import { ok } from '../commons/http-answers';

/** `GET /nodes/{requestId}` (AWS_IAM): status, phase, and result or error of one onboarding. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient }, async (event, rt) =>
  ok(await getOnboarding({ sfn: rt.clients.sfn, settings: rt.settings }, event.pathParameters?.requestId ?? '')),
);
