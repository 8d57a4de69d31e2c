import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { getFleet } from '#lib/fleets/status';
import { apiHandler } from '../commons/api-handler';
import { ok } from '../commons/http-answers';
import { runStoreOf } from '../commons/run-store';

/** `GET /fleets/{fleetId}` (AWS_IAM): the fleet's status and each server's phase and result. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient, s3: S3Client }, async (event, rt) =>
  ok(
    await getFleet(
      { sfn: rt.clients.sfn, store: runStoreOf(rt), settings: rt.settings },
      event.pathParameters?.fleetId ?? '',
    ),
  ),
);
