import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { loadDesiredState } from '../lib/network/desired-state';
import { MODES } from '../lib/network/modes';
import { desiredStateParameter } from '../lib/settings';

const Input = z.object({
  mode: z.enum(MODES, { error: 'mode must be plan or apply' }),
  trigger: z.string().default('api'),
});

/** Task LoadDesiredState: the deployed desired state, validated again; apply refused when empty. */
export const { run, handler } = taskHandler(Input, (input, rt) =>
  loadDesiredState(rt.clients.ssm, { parameter: desiredStateParameter(rt.settings), mode: input.mode }),
);
