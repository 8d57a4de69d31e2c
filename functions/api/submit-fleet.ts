import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { submitFleet } from '#lib/fleets/submit';
import { onboardingsStarted } from '#lib/metrics';
import { apiHandler } from '../commons/api-handler';
import { accepted } from '../commons/http-answers';
import { runStoreOf } from '../commons/run-store';

/** `POST /fleets` (AWS_IAM): validate every server, then start the fleet; the answer says where to follow it and each server. */
export const { run, handler, clients } = apiHandler(
  { sfn: SFNClient, eks: EKSClient, ec2: EC2Client, ssm: SSMClient, s3: S3Client },
  async (event, rt) => {
    const submitted = await submitFleet(
      { clients: rt.clients, store: runStoreOf(rt), settings: rt.settings, now: () => rt.clock.now() },
      {
        body: event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
        requester: event.requestContext?.identity?.userArn ?? 'unknown',
        baseUrl:
          `https://${event.requestContext?.domainName ?? 'localhost'}/${event.requestContext?.stage ?? ''}`.replace(
            /\/$/,
            '',
          ),
      },
    );
    return accepted(submitted, { location: submitted.statusUrl });
  },
  // One onboarding per member; a repeated request (same clientToken) started nothing new.
  {
    metrics: ({ body }) =>
      onboardingsStarted('fleets', body.existing === false && Array.isArray(body.members) ? body.members.length : 0),
  },
);
