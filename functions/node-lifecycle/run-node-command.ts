import { SSMClient } from '@aws-sdk/client-ssm';
import { taskHandler } from '../commons/task-handler';
import { runNodeCommand } from '#lib/node-lifecycle/node-command';
import { RunNodeCommandInputSchema } from '#lib/node-lifecycle/state';

/** Task RunNodeCommand: `nodeadm uninstall` or `nodeadm upgrade` on the host, through SSM Run Command. */
export const { run, handler, clients } = taskHandler(RunNodeCommandInputSchema, { ssm: SSMClient }, (input, rt) =>
  runNodeCommand({ ssm: rt.clients.ssm, clock: rt.clock }, input),
);
