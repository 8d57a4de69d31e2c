import { SSMClient } from '@aws-sdk/client-ssm';
import { taskHandler } from '../commons/task-handler';
import { renderNodeConfig } from '#lib/onboarding/node-config';
import { assertOnboardingRequest } from '#lib/onboarding/request';
import { ActivationResultSchema, OnboardingInputSchema, PreflightResultSchema } from '#lib/onboarding/state';

const Input = OnboardingInputSchema.extend({ preflight: PreflightResultSchema, activation: ActivationResultSchema });

/** Task RenderNodeConfig: the nodeadm NodeConfig, stored as a SecureString for the team to fetch. */
export const { run, handler, clients } = taskHandler(Input, { ssm: SSMClient }, (input, rt) =>
  renderNodeConfig(
    { ssm: rt.clients.ssm, settings: rt.settings, clock: rt.clock },
    {
      request: assertOnboardingRequest(input.request, rt.settings.labelPrefix),
      requestId: input.requestId,
      activationId: input.activation.activationId,
      kubernetesVersion: input.preflight.kubernetesVersion,
    },
  ),
);
