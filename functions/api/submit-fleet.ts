import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { submitFleet } from '#lib/fleets/submit';
import { onboardingsStarted } from '#lib/metrics';
import { apiHandler } from '../commons/api-handler';
import { apiBaseUrl, requestBody, requester } from '../commons/api-request';
import { accepted } from '../commons/http-answers';
import { runStoreOf } from '../commons/run-store';

/** `POST /fleets` (AWS_IAM): validate every server, then start the fleet; the answer says where to follow it and each server. */
export const { run, handler, clients } = apiHandler(
  { sfn: SFNClient, eks: EKSClient, ec2: EC2Client, ssm: SSMClient, s3: S3Client },
  async (event, rt) => {
    const submitted = await submitFleet(
      { clients: rt.clients, store: runStoreOf(rt), settings: rt.settings, now: () => rt.clock.now() },
      {
        body: requestBody(event),
        requester: requester(event),
        baseUrl: apiBaseUrl(event),
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
