import '../lib/polyfills';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { installRuntime, type Runtime } from '../lib/runtime';
import type { SandboxEstate } from '../lib/sandbox/estate';
import { loadServerlessConfig, PROJECT_ROOT } from './serverless-config';

/**
 * Runs a workflow in-process: the real ASL file, the real middy-wrapped handlers (found through
 * serverless.yml), on the sandbox estate or against AWS, through aws-local-stepfunctions.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StateNode = Record<string, Json>;

/** Step Functions Standard: at most 25,000 events in one execution's history. */
export const AWS_HISTORY_EVENT_LIMIT = 25_000;

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
  wallMs: number;
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
  /** Called after a Task state's handler returns, with its result (the state's `ResultPath` part). */
  afterTask?: Record<string, (result: unknown) => Promise<void>>;
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

/** Replaces `Fn::GetAtt [fn, Arn]` with a local Lambda ARN and `Ref` with what `refs` maps it to. */
function resolveIntrinsics(node: Json, region: string, refs: Record<string, string>): Json {
  if (Array.isArray(node)) return node.map((n) => resolveIntrinsics(n, region, refs));
  if (!node || typeof node !== 'object') return node;
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string')
    return fakeLambdaArn(region, getAtt[0]);
  const ref = node.Ref;
  if (typeof ref === 'string') {
    const value = refs[ref];
    if (!value) throw new Error(`The local runner does not know what {"Ref": "${ref}"} stands for.`);
    return value;
  }
  const out: StateNode = {};
  for (const [key, value] of Object.entries(node)) out[key] = resolveIntrinsics(value, region, refs);
  return out;
}

const getAttOf = (resource: Json | undefined) =>
  resource && typeof resource === 'object' && !Array.isArray(resource) ? resource['Fn::GetAtt'] : undefined;

/** Every state, including those nested in Map and Parallel states, by name. */
function allStates(definition: StateNode): Array<[string, StateNode]> {
  const states = (definition.States ?? {}) as Record<string, StateNode>;
  return Object.entries(states).flatMap(([name, state]) => {
    const nested = [
      ...(((state.Branches as StateNode[] | undefined) ?? []) as StateNode[]),
      ...[state.ItemProcessor, state.Iterator].filter(Boolean),
    ] as StateNode[];
    return [[name, state] as [string, StateNode], ...nested.flatMap(allStates)];
  });
}

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

/** A JSONPath of the simple `$.a.b` form, as Wait states' SecondsPath uses. */
function readPath(input: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>(
      (value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined),
      input,
    );
}

/**
 * Throws what Lambda would hand Step Functions: the error's name, and a JSON cause with
 * errorType and errorMessage.
 */
function asLambdaError(error: unknown): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  const lambdaError = new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
  lambdaError.name = e.name;
  return lambdaError;
}

export async function runWorkflow(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const config = loadServerlessConfig('local');
  const machine = config.stateMachines[camel(options.workflow)];
  if (!machine) {
    throw new Error(`No workflow '${options.workflow}'; known: ${workflowNames().join(', ')}`);
  }
  const region = options.runtime.settings.region;
  const raw = JSON.parse(readFileSync(machine.file, 'utf8')) as StateNode;

  const taskHandlers: Record<string, (input: never) => Promise<Json>> = {};
  const retryOverrides: Record<string, number> = {};
  const sandboxWaits = new Set<string>();
  for (const [name, state] of allStates(raw)) {
    if (options.estate && state.Retry) retryOverrides[name] = 0;
    const getAtt = getAttOf(state.Resource);
    if (state.Type === 'Task' && Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
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
      taskHandlers[name] = async (input: never) => {
        let result: Json;
        try {
          result = await handler(input, lambdaContext(region, localFunctionName(key)));
        } catch (error) {
          throw asLambdaError(error);
        }
        await options.afterTask?.[name]?.(result);
        return result;
      };
    } else if (state.Type === 'Task' && state.Resource === 'arn:aws:states:::sns:publish') {
      taskHandlers[name] = async (input: never) => {
        const answer = await options.runtime.clients.sns.send(new PublishCommand(input));
        return { MessageId: answer.MessageId ?? '' };
      };
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
      taskHandlers[name] = async (input: never) => {
        const seconds = typeof Seconds === 'number' ? Seconds : Number(readPath(input, String(SecondsPath)) ?? 0);
        estate.advance(seconds);
        return input;
      };
    }
  }

  // Node timers hold at most 2^31-1 ms (about 24.8 days); a longer execution timeout would fire
  // at once. Locally the runner's own deadlines end the run, so the timeout is left to AWS.
  if (typeof raw.TimeoutSeconds === 'number' && raw.TimeoutSeconds * 1000 > 2 ** 31 - 1) delete raw.TimeoutSeconds;

  const refs = { AlertTopic: options.alertTopicArn };
  const definition = resolveIntrinsics(raw, region, refs) as unknown as StateMachineDefinition;
  const stateMachine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });

  installRuntime(options.runtime);
  const visited: string[] = [];
  const history: RunResult['history'] = [];
  const execution = stateMachine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers as never,
      retryIntervalOverrides: retryOverrides,
    },
  });
  const emit = options.onEvent ?? (() => undefined);
  // AWS ends a Standard execution at 25,000 history events, uncatchably: count them as AWS
  // would (a Lambda Task is 5: entered, scheduled, started, succeeded or failed, exited; other
  // states 2; each retry 3 more) and stop the run the same way.
  let awsEvents = 0;
  let historyLimitHit = false;
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
        if (awsEvents > AWS_HISTORY_EVENT_LIMIT && !historyLimitHit) {
          historyLimitHit = true;
          execution.abort();
        }
        visited.push(state);
        emit({ type: 'entered', state, at: event.timestamp });
      } else if (event.type === 'StateExited') emit({ type: 'exited', state, at: event.timestamp });
      else if (event.type === 'StateFailed') emit({ type: 'failed', state, error: event.Error, at: event.timestamp });
      else if (event.type === 'StateRetried') {
        awsEvents += 3;
        emit({ type: 'retried', state, attempt: event.retry.attempt, at: event.timestamp });
      } else if (event.type === 'StateCaught') emit({ type: 'caught', state, at: event.timestamp });
    }
  })();
  try {
    const output = await execution.result;
    await events;
    return { status: 'SUCCEEDED', visited, output, history, wallMs: Date.now() - started };
  } catch (error) {
    await events.catch(() => undefined);
    if (historyLimitHit) {
      const cause = `the execution history passed AWS's ${AWS_HISTORY_EVENT_LIMIT}-event limit; AWS fails it without running any Catch`;
      return {
        status: 'FAILED',
        visited,
        error: { name: 'States.Runtime', cause },
        history,
        wallMs: Date.now() - started,
      };
    }
    if (!(error instanceof ExecutionError)) throw error;
    const cause = (error as Error & { cause?: { name?: string; message?: string } }).cause;
    return {
      status: 'FAILED',
      visited,
      error: { name: cause?.name ?? 'States.Runtime', cause: cause?.message ?? error.message },
      history,
      wallMs: Date.now() - started,
    };
  } finally {
    installRuntime(undefined);
  }
}
