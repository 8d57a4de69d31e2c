import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { submitUpgrade } from '#lib/upgrades/submit';
import { apiHandler } from '../commons/api-handler';
import { apiBaseUrl, requestBody, requester } from '../commons/api-request';
import { accepted } from '../commons/http-answers';

/** `POST /upgrades` (AWS_IAM): validate, then start the rolling upgrade; the answer says where to follow it. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient, eks: EKSClient }, async (event, rt) => {
  const submitted = await submitUpgrade(rt, {
    body: requestBody(event),
    requester: requester(event),
    baseUrl: apiBaseUrl(event),
  });
  return accepted(submitted, { location: submitted.statusUrl });
});
