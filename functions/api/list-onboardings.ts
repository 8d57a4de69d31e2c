import { SFNClient } from '@aws-sdk/client-sfn';
import { listOnboardings } from '#lib/onboarding/list';
import { apiHandler } from '../commons/api-handler';
import { ok } from '../commons/http-answers';

/** `GET /nodes?status=&limit=&nextToken=` (AWS_IAM): the onboarding requests, newest first. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient }, async (event, rt) =>
  ok(await listOnboardings({ sfn: rt.clients.sfn, settings: rt.settings }, event.queryStringParameters)),
);
