import { SSMClient } from '@aws-sdk/client-ssm';
import { taskHandler } from '../commons/task-handler';
import { checkNodeCommand } from '#lib/node-lifecycle/node-command';
import { CheckNodeCommandInputSchema } from '#lib/node-lifecycle/state';

/** Task CheckNodeCommand: one look at the nodeadm command on the host, its output's tail once it ends. */
export const { run, handler, clients } = taskHandler(CheckNodeCommandInputSchema, { ssm: SSMClient }, (input, rt) =>
  checkNodeCommand({ ssm: rt.clients.ssm, clock: rt.clock }, input),
);
