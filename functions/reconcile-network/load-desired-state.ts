import { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { taskHandler } from '../commons/task-handler';
import { loadDesiredState } from '#lib/network/desired-state';
import { MODES } from '#lib/network/modes';
import { desiredStateParameter } from '#lib/settings';
import { newRunId } from '#lib/run-id';

const Input = z.object({
  mode: z.enum(MODES, { error: 'mode must be plan or apply' }),
  trigger: z.string().default('api'),
});

/**
 * Task LoadDesiredState: the deployed desired state, validated again; apply refused when empty.
 * Names the run: its plans and outcomes live under that id in the run store.
 */
export const { run, handler, clients } = taskHandler(Input, { ssm: SSMClient }, async (input, rt) => ({
  ...(await loadDesiredState(rt.clients.ssm, { parameter: desiredStateParameter(rt.settings), mode: input.mode })),
  runId: newRunId(rt.clock.now()),
}));
