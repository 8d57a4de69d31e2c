import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { onboardingsStarted } from '#lib/metrics';
import { submitOnboarding } from '#lib/onboarding/submit';
import { apiHandler } from '../commons/api-handler';
import { apiBaseUrl, requestBody, requester } from '../commons/api-request';
import { accepted } from '../commons/http-answers';

/** `POST /nodes` (AWS_IAM): validate, then start the onboarding workflow; the answer says where to follow it. */
export const { run, handler, clients } = apiHandler(
  { sfn: SFNClient, eks: EKSClient, ec2: EC2Client, ssm: SSMClient },
  async (event, rt) => {
    const submitted = await submitOnboarding(rt, {
      body: requestBody(event),
      requester: requester(event),
      baseUrl: apiBaseUrl(event),
    });
    return accepted(submitted, { location: submitted.statusUrl });
  },
  // A repeated request (same clientToken) started nothing new.
  { metrics: ({ body }) => onboardingsStarted('nodes', body.existing === false ? 1 : 0) },
);
