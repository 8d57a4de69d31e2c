import { apiHandler } from '../lib/lambda';
import { submitOnboarding } from '../lib/onboarding/submit';

/** `POST /nodes` (AWS_IAM): validate, then start the onboarding workflow. */
export const { run, handler } = apiHandler((event, rt) =>
  submitOnboarding(rt, {
    body: event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
    requester: event.requestContext?.identity?.userArn ?? 'unknown',
    baseUrl: `https://${event.requestContext?.domainName ?? 'localhost'}/${event.requestContext?.stage ?? ''}`.replace(
      /\/$/,
      '',
    ),
  }),
);
