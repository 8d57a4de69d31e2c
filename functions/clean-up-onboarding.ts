import { eksNodeAccess } from '../lib/kube/eks-nodes';
import { taskHandler } from '../lib/lambda';
import { cleanupFailedOnboarding } from '../lib/onboarding/cleanup';
import { OnboardingStateSchema } from '../lib/onboarding/state';

/** Task CleanUp: undoes a failed onboarding and writes the operators' alert. */
export const { run, handler } = taskHandler(
  OnboardingStateSchema,
  (input, rt) => cleanupFailedOnboarding({ ssm: rt.clients.ssm, nodes: rt.nodes, settings: rt.settings }, input),
  { nodes: eksNodeAccess },
);
