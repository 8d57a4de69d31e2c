import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { onboardingFinished } from '#lib/onboarding/metrics';
import { finishOnboarding } from '#lib/onboarding/finish';
import { assertOnboardingRequest } from '#lib/onboarding/request';
import {
  ActivationResultSchema,
  NodeStateSchema,
  OnboardingStateSchema,
  PreflightResultSchema,
  RegistrationStateSchema,
} from '#lib/onboarding/state';
import { EarlierTrySchema } from '#lib/onboarding/tidy';

const Input = OnboardingStateSchema.extend({
  preflight: PreflightResultSchema,
  activation: ActivationResultSchema,
  registration: RegistrationStateSchema,
  node: NodeStateSchema,
  /** The previous try's result, when the workflow tries the cleanup again. */
  finish: EarlierTrySchema.optional(),
});

/**
 * Task FinishOnboarding: deletes the used activation and its code (and the GPU smoke test's pod,
 * if one may be left), releases the lock, reports the result.
 */
export const { run, handler, clients } = taskHandler(
  Input,
  { ssm: SSMClient },
  (input, rt) =>
    finishOnboarding(
      { ssm: rt.clients.ssm, nodes: rt.nodes, clock: rt.clock, settings: rt.settings },
      input,
      assertOnboardingRequest(input.request, rt.settings.labelPrefix),
    ),
  // Counted once: a later try of the cleanup (input.finish set) reports the same onboarding.
  { nodes: eksNodeAccess, metrics: (input, summary) => (input.finish ? [] : onboardingFinished(summary)) },
);
