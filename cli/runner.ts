import '../lib/polyfills';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { ExecutionError, StateMachine, type StateMachineDefinition } from './local-stepfunctions';
import { installRuntime } from '../functions/commons/runtime';
import type { Runtime } from '../lib/runtime';
import { callerPrincipal, callerTask, outsideWorkflow, type SandboxEstate } from '../lib/sandbox/estate';
import { allStates, getAttOf, type Json, readPath, resolveIntrinsics, type StateNode } from './asl';
import { loadServerlessConfig, PROJECT_ROOT } from './serverless-config';

/**
 * Runs a workflow in-process: the real ASL file, the real middy-wrapped handlers (found through
 * serverless.yml), on the sandbox estate or against AWS, through aws-local-stepfunctions. Where
 * that interpreter is kinder than Step Functions, the runner holds the run to what AWS does:
 * the 25,000-event history and 256 KiB payload limits, and a failed Parallel or Map stopping its
 * other branches. It can also make a Task's Lambda crash or time out at a chosen attempt.
 */

/** Step Functions Standard: at most 25,000 events in one execution's history. */
export const AWS_HISTORY_EVENT_LIMIT = 25_000;
/** Step Functions: a task result, a state's input or output: at most 256 KiB as UTF-8 (Quotas). */
export const AWS_PAYLOAD_LIMIT_BYTES = 262_144;

export type RunEvent =
  | { type: 'entered' | 'exited'; state: string; at: number }
  | { type: 'failed'; state: string; error: string; at: number }
  | { type: 'retried'; state: string; attempt: number; at: number }
  | { type: 'caught'; state: string; at: number };

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED';
  /** States entered, in order (a state entered twice appears twice). */
  visited: string[];
  output?: unknown;
  error?: { name: string; cause: string };
  /** Each state's input and output, as the execution history in AWS would hold them. */
  history: Array<{ type: string; state: string; data?: unknown }>;
  /** How many times each Lambda Task was invoked, retries and Map items included. */
  invocations: Record<string, number>;
  wallMs: number;
}

/**
 * A Task's Lambda failing the way Lambda fails, at one invocation of that state. `Lambda.Unknown`
 * is what Step Functions records for a function that crashed or hit its own timeout;
 * `States.Timeout` a Task that ran past its TimeoutSeconds; `Lambda.ServiceException` and
 * `Lambda.TooManyRequestsException` an invocation Lambda refused (Step Functions developer guide,
 * "Handling errors"). With `afterWork` the handler ran to its end first: its work was done, only
 * its result was lost.
 */
export interface LambdaFault {
  state: string;
  /** Which invocation of that state, from 1, counting retries and Map items. */
  attempt: number;
  error: 'Lambda.Unknown' | 'States.Timeout' | 'Lambda.ServiceException' | 'Lambda.TooManyRequestsException';
  afterWork: boolean;
}

export interface RunOptions {
  workflow: string;
  input: unknown;
  runtime: Runtime;
  /** Set on the sandbox: Wait states move its clock instead of sleeping, retries do not sleep. */
  estate?: SandboxEstate;
  /** What `{"Ref": "AlertTopic"}` stands for. */
  alertTopicArn: string;
  onEvent?: (event: RunEvent) => void;
  /**
   * A person's own step after a Task state's handler returns, with its result (the state's
   * `ResultPath` part). It is not part of the workflow: injected faults do not reach it.
   */
  afterTask?: Record<string, (result: unknown) => Promise<void>>;
  lambdaFaults?: LambdaFault[];
  /** `$$.Execution.Name`; a fresh one when absent. */
  executionName?: string;
  /** Tests of the runner itself: a definition to run instead of the workflow's ASL file... */
  definition?: StateNode;
  /** ...and local handlers for its Tasks, by state name. */
  localHandlers?: Record<string, (input: Json) => Promise<Json>>;
}

const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

export function workflowNames(): string[] {
  return Object.keys(loadServerlessConfig('local').stateMachines).map((k) =>
    k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
  );
}

const localFunctionName = (key: string) => `eks-hybrid-ops-local-${key}`;
const fakeLambdaArn = (region: string, key: string) =>
  `arn:aws:lambda:${region}:000000000000:function:${localFunctionName(key)}`;

function lambdaContext(region: string, functionName: string): Context {
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

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/**
 * Throws what Lambda would hand Step Functions: the error's name, and a JSON cause with
 * errorType and errorMessage.
 */
function asLambdaError(error: unknown): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  return named(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
}

/** The error and cause Step Functions records for an injected Lambda fault. */
function lambdaFaultError(fault: LambdaFault, functionName: string): Error {
  const causes: Record<LambdaFault['error'], string> = {
    'Lambda.Unknown': `The cause could not be determined because Lambda did not return an error type. Returned payload: {"errorMessage":"Task timed out after 30.00 seconds (${functionName}, injected)"}`,
    'States.Timeout': '',
    'Lambda.ServiceException': 'Lambda returned an internal error (Service: Lambda, Status Code: 500; injected).',
    'Lambda.TooManyRequestsException': 'Rate Exceeded. (Service: Lambda, Status Code: 429; injected)',
  };
  return named(fault.error, causes[fault.error]);
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

/** Definitions this process has validated already. */
const validated = new Set<string>();

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

export async function runWorkflow(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const config = loadServerlessConfig('local');
  const machine = config.stateMachines[camel(options.workflow)];
  if (!machine && !options.definition) {
    throw new Error(`No workflow '${options.workflow}'; known: ${workflowNames().join(', ')}`);
  }
  const region = options.runtime.settings.region;
  const raw = options.definition
    ? structuredClone(options.definition)
    : (JSON.parse(readFileSync(machine?.file ?? '', 'utf8')) as StateNode);

  // Why the run must stop as AWS would stop it (a limit passed), and the Map and Parallel states
  // that failed: AWS starts nothing more in their branches.
  let stopped: { name: string; cause: string } | undefined;
  const failedContainers = new Set<string>();
  const inflight = new Set<Promise<unknown>>();
  const invocations = new Map<string, number>();
  const counted = () => Object.fromEntries(invocations);
  let abort = () => undefined as void;
  const stop = (name: string, cause: string) => {
    if (stopped) return;
    stopped = { name, cause };
    abort();
  };

  /**
   * Wraps a Task's local handler: one turn of the event loop first, so a limit passed or a
   * Parallel failed just before is seen; then nothing runs if the run or its branch has stopped.
   * The payload limit holds for the Task's input and its result.
   */
  const task = (name: string, within: string[], run: (input: Json) => Promise<Json>) => {
    const handler = async (input: Json): Promise<Json> => {
      await nextTurn();
      if (stopped || within.some((c) => failedContainers.has(c))) return null;
      if (bytes(input) > AWS_PAYLOAD_LIMIT_BYTES) {
        stop('States.DataLimitExceeded', `The input of state '${name}' is larger than 262,144 bytes.`);
        return null;
      }
      const result = await callerTask.run(name, () => run(input));
      if (bytes(result) > AWS_PAYLOAD_LIMIT_BYTES) {
        throw named(
          'States.DataLimitExceeded',
          `The state/task '${name}' returned a result with a size exceeding the maximum number of bytes service limit.`,
        );
      }
      return result;
    };
    return (input: Json) => {
      const running = handler(input);
      inflight.add(running);
      void running.catch(() => undefined).finally(() => inflight.delete(running));
      return running;
    };
  };

  /** A Lambda Task: counts its invocations and fails the one an injected Lambda fault names. */
  const lambdaTask = (name: string, within: string[], functionName: string, invoke: (input: Json) => Promise<Json>) =>
    task(name, within, async (input) => {
      const attempt = (invocations.get(name) ?? 0) + 1;
      invocations.set(name, attempt);
      const fault = options.lambdaFaults?.find((f) => f.state === name && f.attempt === attempt);
      if (!fault) return invoke(input);
      if (fault.afterWork) await invoke(input).catch(() => undefined);
      throw lambdaFaultError(fault, functionName);
    });

  const taskHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  const retryOverrides: Record<string, number> = {};
  const sandboxWaits = new Set<string>();
  for (const { name, state, within } of allStates(raw)) {
    if (options.estate && state.Retry) retryOverrides[name] = 0;
    const getAtt = getAttOf(state.Resource);
    const local = options.localHandlers?.[name];
    if (state.Type === 'Task' && local) {
      taskHandlers[name] = lambdaTask(name, within, `local-${name}`, local);
    } else if (state.Type === 'Task' && Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
      const key = getAtt[0];
      const fn = config.functions[key];
      if (!fn)
        throw new Error(
          `${options.workflow}: state ${name} runs function '${key}', which serverless.yml does not define.`,
        );
      const mod = require(join(PROJECT_ROOT, fn.module)) as Record<
        string,
        (event: unknown, ctx: Context) => Promise<Json>
      >;
      const handler = mod[fn.exportName];
      if (!handler) throw new Error(`${fn.module} has no export '${fn.exportName}'.`);
      const functionName = localFunctionName(key);
      const after = options.afterTask?.[name];
      taskHandlers[name] = lambdaTask(name, within, functionName, async (input) => {
        let result: Json;
        try {
          result = await callerPrincipal.run(key, () => handler(input, lambdaContext(region, functionName)));
        } catch (error) {
          throw asLambdaError(error);
        }
        if (after) await outsideWorkflow.run(true, () => after(result));
        return result;
      });
    } else if (state.Type === 'Task' && state.Resource === 'arn:aws:states:::sns:publish') {
      taskHandlers[name] = task(name, within, async (input) => {
        try {
          const answer = await callerPrincipal.run(`stateMachine:${camel(options.workflow)}`, () =>
            options.runtime.clients.snsSingleAttempt.send(new PublishCommand(input as never)),
          );
          return { MessageId: answer.MessageId ?? '' };
        } catch (error) {
          throw integrationError('SNS', error);
        }
      });
    } else if (state.Type === 'Task') {
      throw new Error(
        `${options.workflow}: the local runner cannot run Task ${name} (${JSON.stringify(state.Resource)}).`,
      );
    } else if (state.Type === 'Wait' && options.estate) {
      // On the sandbox a Wait becomes a Task that moves the sandbox clock by the Wait's duration
      // and passes its input through: same name, same transitions, no sleeping.
      const estate = options.estate;
      sandboxWaits.add(name);
      const { Seconds, SecondsPath } = state;
      for (const key of ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']) delete state[key];
      Object.assign(state, { Type: 'Task', Resource: fakeLambdaArn(region, 'sandboxWait') });
      taskHandlers[name] = task(name, within, async (input) => {
        const seconds = typeof Seconds === 'number' ? Seconds : Number(readPath(input, String(SecondsPath)) ?? 0);
        estate.advance(seconds);
        return input;
      });
    }
  }
  const containers = new Set(allStates(raw).flatMap((s) => s.within));

  // Node timers hold at most 2^31-1 ms (about 24.8 days); a longer execution timeout would fire
  // at once. Locally the runner's own deadlines end the run, so the timeout is left to AWS.
  if (typeof raw.TimeoutSeconds === 'number' && raw.TimeoutSeconds * 1000 > 2 ** 31 - 1) delete raw.TimeoutSeconds;

  const refs = { AlertTopic: options.alertTopicArn };
  const definition = resolveIntrinsics(
    raw,
    (key) => fakeLambdaArn(region, key),
    refs,
  ) as unknown as StateMachineDefinition;
  // Validating a definition (asl-validator) takes about 100 ms: once per definition a process runs.
  const text = JSON.stringify(definition);
  const stateMachine = new StateMachine(definition, {
    validationOptions: validated.has(text) ? { noValidate: true } : { checkArn: true, checkPaths: true },
  });
  validated.add(text);

  installRuntime(options.runtime);
  const visited: string[] = [];
  const history: RunResult['history'] = [];
  const executionName = options.executionName ?? `local-${randomUUID()}`;
  if (bytes(options.input) > AWS_PAYLOAD_LIMIT_BYTES) {
    throw new Error(`The execution input is larger than ${AWS_PAYLOAD_LIMIT_BYTES} bytes; AWS refuses to start it.`);
  }
  const execution = stateMachine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers as never,
      retryIntervalOverrides: retryOverrides,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:${region}:000000000000:execution:${options.workflow}:${executionName}`,
        Name: executionName,
      },
    },
  });
  abort = () => execution.abort();
  const emit = options.onEvent ?? (() => undefined);
  // AWS ends a Standard execution at 25,000 history events, uncatchably: count them as AWS
  // would (a Lambda Task is 5: entered, scheduled, started, succeeded or failed, exited; other
  // states 2; each retry 3 more) and stop the run the same way. A state's output over 256 KiB
  // ends it too (States.DataLimitExceeded, which no Catch runs for).
  let awsEvents = 0;
  const events = (async () => {
    for await (const event of execution.eventLogs) {
      const state = 'state' in event ? event.state.name : '';
      if ('state' in event) {
        history.push({
          type: event.type,
          state,
          data: event.type === 'StateExited' ? event.state.output : event.state.input,
        });
      } else history.push({ type: event.type, state: '', data: 'output' in event ? event.output : undefined });
      if (event.type === 'StateEntered') {
        awsEvents += event.state.type === 'Task' && !sandboxWaits.has(state) ? 5 : 2;
        if (awsEvents > AWS_HISTORY_EVENT_LIMIT) {
          stop(
            'States.Runtime',
            `the execution history passed AWS's ${AWS_HISTORY_EVENT_LIMIT}-event limit; AWS fails it without running any Catch`,
          );
        }
        visited.push(state);
        emit({ type: 'entered', state, at: event.timestamp });
      } else if (event.type === 'StateExited') {
        if (bytes(event.state.output) > AWS_PAYLOAD_LIMIT_BYTES) {
          stop(
            'States.DataLimitExceeded',
            `The output of state '${state}' is larger than ${AWS_PAYLOAD_LIMIT_BYTES} bytes; AWS fails the execution without running any Catch.`,
          );
        }
        emit({ type: 'exited', state, at: event.timestamp });
      } else if (event.type === 'StateFailed') {
        if (containers.has(state)) failedContainers.add(state);
        emit({ type: 'failed', state, error: event.Error, at: event.timestamp });
      } else if (event.type === 'StateRetried') {
        awsEvents += 3;
        emit({ type: 'retried', state, attempt: event.retry.attempt, at: event.timestamp });
      } else if (event.type === 'StateCaught') emit({ type: 'caught', state, at: event.timestamp });
    }
  })();
  try {
    const output = await execution.result;
    await events;
    return { status: 'SUCCEEDED', visited, output, history, invocations: counted(), wallMs: Date.now() - started };
  } catch (error) {
    await events.catch(() => undefined);
    if (stopped)
      return {
        status: 'FAILED',
        visited,
        error: stopped,
        history,
        invocations: counted(),
        wallMs: Date.now() - started,
      };
    if (!(error instanceof ExecutionError)) throw error;
    const cause = (error as Error & { cause?: { name?: string; message?: string } }).cause;
    return {
      status: 'FAILED',
      visited,
      error: { name: cause?.name ?? 'States.Runtime', cause: cause?.message ?? error.message },
      history,
      invocations: counted(),
      wallMs: Date.now() - started,
    };
  } finally {
    // Nothing of this run may go on after it returns: wait out the Tasks still running (AWS too
    // lets a running Lambda finish; it only starts nothing new).
    while (inflight.size) await Promise.allSettled([...inflight]);
    installRuntime(undefined);
  }
}
