import { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { taskHandler } from '../commons/task-handler';
import { checkRegistration } from '#lib/onboarding/registration';
import { ActivationResultSchema, RegistrationStateSchema } from '#lib/onboarding/state';

const Input = z.object({
  activation: ActivationResultSchema,
  registration: RegistrationStateSchema,
  request: z.object({ node: z.object({ name: z.string() }) }),
});

/** Task CheckRegistration: one poll for the managed instance registered with the activation. */
export const { run, handler, clients } = taskHandler(Input, { ssm: SSMClient }, (input, rt) =>
  checkRegistration(
    { ssm: rt.clients.ssm, clock: rt.clock },
    {
      activationId: input.activation.activationId,
      activationExpiresAt: input.activation.expiresAt,
      nodeName: input.request.node.name,
      attempt: input.registration.attempt,
    },
  ),
);
