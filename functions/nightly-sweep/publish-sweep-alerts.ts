import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { StoreError } from '#lib/errors';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { publishSweepAlerts } from '#lib/sweep/publish-sweep-alerts';
import { SweepIdSchema } from '#lib/sweep/state';

const Input = z.object({ sweepId: SweepIdSchema });

/** Task PublishSweepAlerts: the night's alerts to the topic; a retry does not page twice. */
export const { run, handler, clients } = taskHandler(
  Input,
  { snsSingleAttempt: SNSClient, s3: S3Client },
  (input, rt) => {
    const topicArn = rt.settings.alertTopicArn;
    if (!topicArn) throw new StoreError('ALERT_TOPIC_ARN is not set.', 'Deploy with serverless.yml, which sets it.');
    return publishSweepAlerts(
      { sns: rt.clients.snsSingleAttempt, store: runStoreOf(rt) },
      { sweepId: input.sweepId, topicArn },
    );
  },
);
