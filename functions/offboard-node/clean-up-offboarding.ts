import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { cleanUpOffboarding } from '#lib/offboarding/cleanup';
import { OffboardingStateSchema } from '#lib/offboarding/state';
import { EarlierTrySchema } from '#lib/offboarding/tries';
import { taskHandler } from '../commons/task-handler';

const Input = OffboardingStateSchema.extend({
  /** The previous try's result, when the workflow tries the cleanup again. */
  cleanup: EarlierTrySchema.optional(),
});

/** Task CleanUpOffboarding: releases the lock, says where the node stands and what is left; writes the alert. */
export const { run, handler, clients } = taskHandler(
  Input,
  { ssm: SSMClient },
  (input, rt) => cleanUpOffboarding({ ssm: rt.clients.ssm, nodes: rt.nodes, settings: rt.settings }, input),
  { nodes: eksNodeAccess },
);
