import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { callerPrincipal, outsideWorkflow, type SandboxEstate } from '#lib/sandbox/estate';
import { type Integration, START_EXECUTION_SYNC, START_EXECUTION_SYNC_2, startExecutionSync } from './child-executions';
import { allStates, getAttOf, type Json, readPath, type StateNode } from './asl';
import { named, type RunControl } from './run-control';
import type { RunOptions } from './runner';
import { PROJECT_ROOT, type ServerlessConfig } from './serverless-config';

/**
 * The local stand-in for each Task of a definition: a Lambda Task runs its real handler (found
 * through serverless.yml), failing as Lambda fails; an sns:publish Task publishes with the
 * runtime's client, failing as the integration fails; a states:startExecution.sync[:2] Task runs
 * the child execution in process (cli/child-executions.ts); on the sandbox a Wait moves the
 * sandbox clock instead of sleeping.
 */

type TaskHandler = (input: Json) => Promise<Json>;

export interface LocalTasks {
  /** By state name, what runs in its place. */
  handlers: Record<string, TaskHandler>;
  /** States whose retries wait no time (every state with a Retry, on the sandbox). */
  retryOverrides: Record<string, number>;
  /** The Wait states that became Tasks moving the sandbox clock. */
  sandboxWaits: Set<string>;
}

export const localFunctionName = (key: string) => `eks-hybrid-ops-local-${key}`;
export const fakeLambdaArn = (region: string, key: string) =>
  `arn:aws:lambda:${region}:000000000000:function:${localFunctionName(key)}`;
const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Every Task of `raw` (and, on the sandbox, every Wait, which it rewrites into a Task) with its local handler. */
export function localTasks(
  raw: StateNode,
  options: RunOptions,
  config: ServerlessConfig,
  control: RunControl,
  children: Integration,
): LocalTasks {
  const region = options.runtime.settings.region;
  const tasks: LocalTasks = { handlers: {}, retryOverrides: {}, sandboxWaits: new Set() };
  for (const { name, state, within } of allStates(raw)) {
    if (options.estate && state.Retry) tasks.retryOverrides[name] = 0;
    const getAtt = getAttOf(state.Resource);
    const local = options.localHandlers?.[name];
    if (state.Type === 'Task' && local) {
      tasks.handlers[name] = control.lambdaTask(name, within, `local-${name}`, local);
    } else if (state.Type === 'Task' && Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
      tasks.handlers[name] = control.lambdaTask(
        name,
        within,
        localFunctionName(getAtt[0]),
        lambdaHandler(name, getAtt[0], options, config),
      );
    } else if (state.Type === 'Task' && state.Resource === 'arn:aws:states:::sns:publish') {
      tasks.handlers[name] = control.task(name, within, snsPublish(options));
    } else if (
      state.Type === 'Task' &&
      (state.Resource === START_EXECUTION_SYNC || state.Resource === START_EXECUTION_SYNC_2)
    ) {
      // It only waits: the child's own Tasks hold the clock.
      tasks.handlers[name] = control.task(name, within, startExecutionSync(state.Resource, children), false);
    } else if (state.Type === 'Task') {
      throw new Error(
        `${options.workflow}: the local runner cannot run Task ${name} (${JSON.stringify(state.Resource)}).`,
      );
    } else if (state.Type === 'Wait' && options.estate) {
      tasks.sandboxWaits.add(name);
      const who = { execution: options.executionName ?? '', state: name, within };
      tasks.handlers[name] = control.task(
        name,
        within,
        sandboxWait(state, options.estate, region, control, who),
        false,
      );
    }
  }
  return tasks;
}

/** A Lambda Task's real handler, called as Lambda calls it, after which a person's own step may run. */
function lambdaHandler(state: string, key: string, options: RunOptions, config: ServerlessConfig): TaskHandler {
  const fn = config.functions[key];
  if (!fn) {
    throw new Error(
      `${options.workflow}: state ${state} runs function '${key}', which serverless.yml does not define.`,
    );
  }
  const mod = require(join(PROJECT_ROOT, fn.module)) as Record<string, (event: unknown, ctx: Context) => Promise<Json>>;
  const handler = mod[fn.exportName];
  if (!handler) throw new Error(`${fn.module} has no export '${fn.exportName}'.`);
  const region = options.runtime.settings.region;
  const functionName = localFunctionName(key);
  const after = options.afterTask?.[state];
  return async (input) => {
    let result: Json;
    try {
      result = await callerPrincipal.run(key, () => handler(input, lambdaContext(region, functionName)));
    } catch (error) {
      throw asLambdaError(error);
    }
    if (after) await outsideWorkflow.run(true, () => after(result));
    return result;
  };
}

/** The sns:publish integration, signed as the state machine's role. */
function snsPublish(options: RunOptions): TaskHandler {
  return async (input) => {
    try {
      const answer = await callerPrincipal.run(`stateMachine:${camel(options.workflow)}`, () =>
        options.runtime.clients.snsSingleAttempt.send(new PublishCommand(input as never)),
      );
      return { MessageId: answer.MessageId ?? '' };
    } catch (error) {
      throw integrationError('SNS', error);
    }
  };
}

/**
 * On the sandbox a Wait becomes a Task that waits for the run's shared sandbox clock to move by
 * the Wait's duration (cli/sandbox-time.ts) and passes its input through: same name, same
 * transitions, no sleeping. Rewrites `state` so.
 */
function sandboxWait(
  state: StateNode,
  estate: SandboxEstate,
  region: string,
  control: RunControl,
  who: { execution: string; state: string; within: string[] },
): TaskHandler {
  const { Seconds, SecondsPath } = state;
  for (const key of ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']) delete state[key];
  Object.assign(state, { Type: 'Task', Resource: fakeLambdaArn(region, 'sandboxWait') });
  return async (input) => {
    const seconds = typeof Seconds === 'number' ? Seconds : Number(readPath(input, String(SecondsPath)) ?? 0);
    if (control.time) await control.time.wait(seconds, who);
    else estate.advance(seconds);
    return input;
  };
}

export function lambdaContext(region: string, functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Throws what Lambda would hand Step Functions: the error's name, and a JSON cause with
 * errorType and errorMessage.
 */
function asLambdaError(error: unknown): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  return named(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
}

/**
 * An optimized service integration's error as Step Functions names it: `<Service>.<Code>Exception`
 * with the service's answer as the cause (seen as `SNS.InvalidParameterException`); an error
 * that never reached the service is the integration's own States.TaskFailed.
 */
function integrationError(service: string, error: unknown): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  const answer = e as Error & { $fault?: string; $metadata?: { httpStatusCode?: number } };
  if (!answer.$fault) return named('States.TaskFailed', `${service} could not be reached: ${e.message}`);
  const code = e.name.replace(/Exception$/, '');
  return named(
    `${service}.${code}Exception`,
    `${e.message} (Service: Amazon${service}; Status Code: ${answer.$metadata?.httpStatusCode ?? 400}; Error Code: ${code}; Proxy: null)`,
  );
}
