import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { onboardingFailed } from '#lib/onboarding/metrics';
import { cleanUpOnboarding } from '#lib/onboarding/cleanup';
import { OnboardingStateSchema } from '#lib/onboarding/state';
import { EarlierTrySchema } from '#lib/onboarding/tidy';

const Input = OnboardingStateSchema.extend({
  /** The previous try's result, when the workflow tries the cleanup again. */
  cleanup: EarlierTrySchema.optional(),
});

/** Task CleanUpOnboarding: undoes a failed onboarding, each step on its own, and writes the operators' alert. */
export const { run, handler, clients } = taskHandler(
  Input,
  { ssm: SSMClient },
  (input, rt) => cleanUpOnboarding({ ssm: rt.clients.ssm, nodes: rt.nodes, settings: rt.settings }, input),
  // Counted once: a later try (input.cleanup set) undoes the same onboarding.
  { nodes: eksNodeAccess, metrics: (input) => (input.cleanup ? [] : onboardingFailed(input.failure)) },
);
