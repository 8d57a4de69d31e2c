import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { onboardingsStarted } from '#lib/metrics';
import { submitOnboarding } from '#lib/onboarding/submit';
import { apiHandler } from '../commons/api-handler';
import { accepted } from '../commons/http-answers';

/** `POST /nodes` (AWS_IAM): validate, then start the onboarding workflow; the answer says where to follow it. */
export const { run, handler, clients } = apiHandler(
  { sfn: SFNClient, eks: EKSClient, ec2: EC2Client, ssm: SSMClient },
  async (event, rt) => {
    const submitted = await submitOnboarding(rt, {
      body: event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
      requester: event.requestContext?.identity?.userArn ?? 'unknown',
      baseUrl:
        `https://${event.requestContext?.domainName ?? 'localhost'}/${event.requestContext?.stage ?? ''}`.replace(
          /\/$/,
          '',
        ),
    });
    return accepted(submitted, { location: submitted.statusUrl });
  },
  // A repeated request (same clientToken) started nothing new.
  { metrics: ({ body }) => onboardingsStarted('nodes', body.existing === false ? 1 : 0) },
);
