import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { getUpgrade } from '#lib/upgrades/status';
import { apiHandler } from '../commons/api-handler';
import { ok } from '../commons/http-answers';
import { runStoreOf } from '../commons/run-store';

/** `GET /upgrades/{upgradeId}` (AWS_IAM): the upgrade's status and each node's state. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient, s3: S3Client }, async (event, rt) =>
  ok(
    await getUpgrade(
      { sfn: rt.clients.sfn, store: runStoreOf(rt), settings: rt.settings },
      event.pathParameters?.upgradeId ?? '',
    ),
  ),
);
