import { SSMClient } from '@aws-sdk/client-ssm';
import type * as z from 'zod';
import { taskHandler } from '../commons/task-handler';
import { issueActivation } from '#lib/onboarding/activation';
import { assertOnboardingRequest } from '#lib/onboarding/request';
import { OnboardingInputSchema, PreflightResultSchema } from '#lib/onboarding/state';

const Input = OnboardingInputSchema.extend({ preflight: PreflightResultSchema });

/** Task IssueActivation: a single-use SSM hybrid activation; its code goes into a SecureString. */
export const { run, handler, clients } = taskHandler(Input, { ssm: SSMClient }, (input, rt) =>
  issueActivation(
    { ssm: rt.clients.ssm, settings: rt.settings, clock: rt.clock },
    {
      requestId: input.requestId,
      requester: input.requester,
      request: assertOnboardingRequest(input.request, rt.settings.labelPrefix),
      clusterArn: input.preflight.clusterArn,
      expiresAt: input.preflight.activationExpiresAt,
    },
  ),
);

export type IssueActivationInput = z.input<typeof Input>;
