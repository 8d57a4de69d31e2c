import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { submitUpgrade } from '#lib/upgrades/submit';
import { apiHandler } from '../commons/api-handler';
import { accepted } from '../commons/http-answers';

/** `POST /upgrades` (AWS_IAM): validate, then start the rolling upgrade; the answer says where to follow it. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient, eks: EKSClient }, async (event, rt) => {
  const submitted = await submitUpgrade(rt, {
    body: event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
    requester: event.requestContext?.identity?.userArn ?? 'unknown',
    baseUrl: `https://${event.requestContext?.domainName ?? 'localhost'}/${event.requestContext?.stage ?? ''}`.replace(
      /\/$/,
      '',
    ),
  });
  return accepted(submitted, { location: submitted.statusUrl });
});
