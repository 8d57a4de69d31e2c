import { apiHandler } from '../lib/lambda';
import { getOnboardingStatus } from '../lib/onboarding/status';

/** `GET /nodes/{requestId}` (AWS_IAM): status, phase, and result or error of one onboarding. */
export const { run, handler } = apiHandler((event, rt) =>
  getOnboardingStatus({ sfn: rt.clients.sfn, settings: rt.settings }, event.pathParameters?.requestId ?? ''),
);
