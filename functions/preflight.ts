import { taskHandler } from '../lib/lambda';
import { preflight } from '../lib/onboarding/preflight';
import { OnboardingInputSchema } from '../lib/onboarding/state';

/** Task Preflight: checks the cluster can take the node and takes the node's onboarding lock. */
export const { run, handler } = taskHandler(OnboardingInputSchema, (input, rt) => preflight(rt, input));
