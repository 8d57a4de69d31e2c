import { SFNClient } from '@aws-sdk/client-sfn';
import { getOffboarding } from '#lib/offboarding/status';
import { apiHandler } from '../commons/api-handler';
import { ok } from '../commons/http-answers';

/** `GET /offboardings/{requestId}` (AWS_IAM): status, phase, and result or error of one offboarding. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient }, async (event, rt) =>
  ok(await getOffboarding({ sfn: rt.clients.sfn, settings: rt.settings }, event.pathParameters?.requestId ?? '')),
);
