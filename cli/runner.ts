import '#lib/polyfills';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { withMetricsSink } from '#functions/commons/metrics';
import { installedRuntime, installRuntime } from '#functions/commons/runtime';
import type { EmfDocument } from '#lib/metrics';
import type { Runtime } from '#lib/runtime';
import type { SandboxEstate } from '#lib/sandbox/estate';
import { type ExecutionEnd, trackExecution } from '#lib/sandbox/services/sfn';
import { allStates, type Json, resolveIntrinsics, type StateNode } from './asl';
import { ExecutionError, StateMachine, type StateMachineDefinition } from './local-stepfunctions';
import { AWS_HISTORY_EVENT_LIMIT, AWS_PAYLOAD_LIMIT_BYTES, bytes, type LambdaFault, RunControl } from './run-control';
import { SandboxTime } from './sandbox-time';
import { loadServerlessConfig, type ServerlessConfig } from './serverless-config';
import { fakeLambdaArn, localTasks } from './task-handlers';
import { type ChildStart, type Executions, executionArnOf, type LocalStateMachine } from './child-executions';

/**
 * Runs a workflow in-process: the real ASL file, the real middy-wrapped handlers (found through
 * serverless.yml), on the sandbox estate or against AWS, through aws-local-stepfunctions. Where
 * that interpreter is kinder than Step Functions, the runner holds the run to what AWS does:
 * the 25,000-event history and 256 KiB payload limits, and a failed Parallel or Map stopping its
 * other branches. It can also make a Task's Lambda crash or time out at a chosen attempt.
 */

export type RunEvent = (
  | {
      type: 'entered' | 'exited';
      state: string;
      at: number;
      /** The ASL state type (`Task`, `Choice`, ...). */
      stateType?: string;
      /** The state's input (entered) or output (exited), as the execution history holds it. */
      data?: unknown;
    }
  | { type: 'failed'; state: string; error: string; at: number }
  | { type: 'retried'; state: string; attempt: number; at: number }
  | { type: 'caught'; state: string; at: number }
) & {
  /** Set on a child execution's events (which its parent's `onEvent` receives): the child's name. */
  execution?: string;
};

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED';
  workflow: string;
  /** `$$.Execution.Name`. */
  executionName: string;
  /** States entered, in order (a state entered twice appears twice). */
  visited: string[];
  output?: unknown;
  error?: { name: string; cause: string };
  /** Stopped by its parent execution (a `.sync` child whose parent stopped): ABORTED in AWS. */
  aborted?: true;
  /** Each state's input and output, as the execution history in AWS would hold them. */
  history: Array<{ type: string; state: string; data?: unknown }>;
  /** How many times each Lambda Task was invoked, retries and Map items included. */
  invocations: Record<string, number>;
  /** The executions its `startExecution.sync` Tasks started, in the order they ended (each with its own). */
  children?: RunResult[];
  /** The EMF documents its handlers (and its children's) emitted, which Lambda would print to CloudWatch Logs. */
  metrics?: EmfDocument[];
  wallMs: number;
}

/** What a run does for the child executions its `states:startExecution.sync[:2]` Tasks start. */
export interface ChildRuns {
  /** A person's own steps after a child's Tasks (as {@link RunOptions.afterTask}), by the child's workflow and input. */
  afterTask?(workflow: string, input: unknown): Record<string, (result: unknown) => Promise<void>>;
  /** Tests of the runner itself: a child workflow's own definition and local handlers. */
  definitions?: Record<string, { definition: StateNode; localHandlers?: RunOptions['localHandlers'] }>;
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
  /** Injected Lambda faults: they hit this execution's states only, never a child execution's. */
  lambdaFaults?: LambdaFault[];
  /** `$$.Execution.Name`; a fresh one when absent. */
  executionName?: string;
  /** Tests of the runner itself: a definition to run instead of the workflow's ASL file... */
  definition?: StateNode;
  /** ...and local handlers for its Tasks, by state name. */
  localHandlers?: Record<string, (input: Json) => Promise<Json>>;
  childRuns?: ChildRuns;
}

const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

export function workflowNames(): string[] {
  return Object.keys(loadServerlessConfig('local').stateMachines).map((k) =>
    k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
  );
}

/** Definitions this process has validated already. */
const validated = new Set<string>();

/** The definition to run: the workflow's ASL file (from serverless.yml), or a test's own. */
function readDefinition(options: RunOptions, config: ServerlessConfig): StateNode {
  const machine = config.stateMachines[camel(options.workflow)];
  if (options.definition) return structuredClone(options.definition);
  if (!machine) throw new Error(`No workflow '${options.workflow}'; known: ${workflowNames().join(', ')}`);
  return JSON.parse(readFileSync(machine.file, 'utf8')) as StateNode;
}

/** The definition as aws-local-stepfunctions runs it: intrinsics resolved, validated once per process. */
function compile(raw: StateNode, options: RunOptions, family: RunFamily): InstanceType<typeof StateMachine> {
  // Node timers hold at most 2^31-1 ms (about 24.8 days); a longer execution timeout would fire
  // at once. Locally the runner's own deadlines end the run, so the timeout is left to AWS.
  if (typeof raw.TimeoutSeconds === 'number' && raw.TimeoutSeconds * 1000 > 2 ** 31 - 1) delete raw.TimeoutSeconds;
  const region = options.runtime.settings.region;
  const definition = resolveIntrinsics(raw, (key) => fakeLambdaArn(region, key), {
    AlertTopic: options.alertTopicArn,
    ...Object.fromEntries(family.machines.map((m) => [m.id, m.arn])),
  }) as unknown as StateMachineDefinition;
  // Validating a definition (asl-validator) takes about 100 ms: once per definition a process runs.
  const text = JSON.stringify(definition);
  const stateMachine = new StateMachine(definition, {
    validationOptions: validated.has(text) ? { noValidate: true } : { checkArn: true, checkPaths: true },
  });
  validated.add(text);
  return stateMachine;
}

type Execution = ReturnType<InstanceType<typeof StateMachine>['run']>;

/**
 * Follows an execution's events: the states it visits, its history, and AWS's limits. AWS ends a
 * Standard execution at 25,000 history events, uncatchably: they are counted as AWS would (a
 * Lambda Task is 5: entered, scheduled, started, succeeded or failed, exited; other states 2;
 * each retry 3 more) and the run stopped the same way. A state's output over 256 KiB ends it too
 * (States.DataLimitExceeded, which no Catch runs for).
 */
async function followEvents(
  execution: Execution,
  control: RunControl,
  seen: { visited: string[]; history: RunResult['history'] },
  context: {
    sandboxWaits: Set<string>;
    containers: Set<string>;
    emit: (event: RunEvent) => void;
    containerFailed: (state: string) => void;
  },
): Promise<void> {
  const { visited, history } = seen;
  const { emit } = context;
  let awsEvents = 0;
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
      awsEvents += event.state.type === 'Task' && !context.sandboxWaits.has(state) ? 5 : 2;
      if (awsEvents > AWS_HISTORY_EVENT_LIMIT) {
        control.stop(
          'States.Runtime',
          `the execution history passed AWS's ${AWS_HISTORY_EVENT_LIMIT}-event limit; AWS fails it without running any Catch`,
        );
      }
      visited.push(state);
      emit({ type: 'entered', state, at: event.timestamp, stateType: event.state.type, data: event.state.input });
    } else if (event.type === 'StateExited') {
      if (bytes(event.state.output) > AWS_PAYLOAD_LIMIT_BYTES) {
        control.stop(
          'States.DataLimitExceeded',
          `The output of state '${state}' is larger than ${AWS_PAYLOAD_LIMIT_BYTES} bytes; AWS fails the execution without running any Catch.`,
        );
      }
      emit({ type: 'exited', state, at: event.timestamp, stateType: event.state.type, data: event.state.output });
    } else if (event.type === 'StateFailed') {
      if (context.containers.has(state)) {
        control.failedContainers.add(state);
        context.containerFailed(state);
      }
      emit({ type: 'failed', state, error: event.Error, at: event.timestamp });
    } else if (event.type === 'StateRetried') {
      awsEvents += 3;
      emit({ type: 'retried', state, attempt: event.retry.attempt, at: event.timestamp });
    } else if (event.type === 'StateCaught') emit({ type: 'caught', state, at: event.timestamp });
  }
}

/** How a run that threw ended: stopped at a limit, or failed as the definition says. */
function failure(error: unknown, control: RunControl): { name: string; cause: string } {
  if (control.stopped) return control.stopped;
  if (!(error instanceof ExecutionError)) throw error;
  const cause = (error as Error & { cause?: { name?: string; message?: string } }).cause;
  return { name: cause?.name ?? 'States.Runtime', cause: cause?.message ?? error.message };
}

/** What a run and the child executions it starts share. */
interface RunFamily {
  machines: LocalStateMachine[];
  executions: Executions;
  /** On the sandbox: the one clock every branch and child execution waits on. */
  time?: SandboxTime;
}

/** The stack's state machines, each with the ARN its `{"Ref": "<LogicalId>"}` stands for locally. */
function stateMachinesOf(options: RunOptions): LocalStateMachine[] {
  const stage = options.estate ? 'sandbox' : 'local';
  return localStateMachines(stage, options.runtime.settings.region, options.estate?.seed.account ?? '000000000000');
}

/** The stack's state machines of `stage` in `region` and `account`, with their ARNs. */
export function localStateMachines(stage: string, region: string, account: string): LocalStateMachine[] {
  return Object.entries(loadServerlessConfig(stage).stateMachines).flatMap(([key, m]) =>
    m.id && m.name
      ? [{ workflow: kebab(key), key, id: m.id, arn: `arn:aws:states:${region}:${account}:stateMachine:${m.name}` }]
      : [],
  );
}

const kebab = (camelCase: string) => camelCase.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export async function runWorkflow(options: RunOptions): Promise<RunResult> {
  // A process that installed this runtime for good (`hybridops api serve`, whose executions run
  // side by side) keeps it installed after the run.
  const ours = installedRuntime() !== options.runtime;
  if (ours) installRuntime(options.runtime);
  const metrics: EmfDocument[] = [];
  try {
    const result = await withMetricsSink(
      (documents) => metrics.push(...documents),
      () =>
        runExecution(options, {
          machines: stateMachinesOf(options),
          executions: new Map(),
          time: options.estate && new SandboxTime(options.estate),
        }),
    );
    return { ...result, metrics };
  } finally {
    if (ours) installRuntime(undefined);
  }
}

/**
 * One execution, the root's or a child's: a child's history, invocations and limits are its own;
 * it is stopped (ABORTED) when its parent is.
 */
async function runExecution(
  options: RunOptions,
  family: RunFamily,
  child?: { arn: string; parent: RunControl },
): Promise<RunResult> {
  const started = Date.now();
  const config = loadServerlessConfig('local');
  const raw = readDefinition(options, config);
  const control = new RunControl(options.lambdaFaults, family.time);
  const executionName = options.executionName ?? `local-${randomUUID()}`;
  options = { ...options, executionName };
  // A stopped execution's waits, or a failed Map's or Parallel's, resume at once: nothing more runs there.
  const cancelWaits = (within?: string) =>
    family.time?.cancel((w) => w.execution === executionName && (!within || w.within.includes(within)));
  control.onStop(() => cancelWaits());
  const children: RunResult[] = [];
  const startChild = ({ machine, name, input }: ChildStart) => {
    const definitions = options.childRuns?.definitions?.[machine.workflow];
    const forward = options.onEvent;
    // Where the sandbox serves Step Functions (`hybridops api serve`), it answers for the child too.
    const tracked =
      options.estate &&
      trackExecution(options.estate, { stateMachineArn: machine.arn, name, input: JSON.stringify(input) });
    const onEvent =
      forward || tracked
        ? (event: RunEvent) => {
            if (tracked && !event.execution && (event.type === 'entered' || event.type === 'exited')) {
              tracked.step({
                kind: event.type,
                state: event.state,
                stateType: event.stateType ?? 'Pass',
                data: event.data,
              });
            }
            forward?.(event.execution ? event : { ...event, execution: name });
          }
        : undefined;
    const run = runExecution(
      {
        workflow: machine.workflow,
        input,
        runtime: options.runtime,
        estate: options.estate,
        alertTopicArn: options.alertTopicArn,
        onEvent,
        afterTask: options.childRuns?.afterTask?.(machine.workflow, input),
        executionName: name,
        definition: definitions?.definition,
        localHandlers: definitions?.localHandlers,
        childRuns: options.childRuns,
      },
      family,
      { arn: executionArnOf(machine.arn, name), parent: control },
    );
    if (tracked) {
      void run.then(
        (result) => tracked.end(executionEnd(result)),
        (error: unknown) => tracked.end({ status: 'FAILED', error: 'States.Runtime', cause: String(error) }),
      );
    }
    return run;
  };
  const parentKey = family.machines.find((m) => m.workflow === options.workflow)?.key ?? camel(options.workflow);
  const tasks = localTasks(raw, options, config, control, {
    parent: { key: parentKey },
    estate: options.estate,
    machines: family.machines,
    executions: family.executions,
    start: startChild,
    ended: (result) => children.push(result),
  });
  const containers = new Set(allStates(raw).flatMap((s) => s.within));
  const stateMachine = compile(raw, options, family);

  const seen = { visited: [] as string[], history: [] as RunResult['history'] };
  if (bytes(options.input) > AWS_PAYLOAD_LIMIT_BYTES) {
    throw new Error(`The execution input is larger than ${AWS_PAYLOAD_LIMIT_BYTES} bytes; AWS refuses to start it.`);
  }
  const execution = stateMachine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: tasks.handlers as never,
      retryIntervalOverrides: tasks.retryOverrides,
    },
    context: {
      Execution: {
        Id:
          child?.arn ??
          `arn:aws:states:${options.runtime.settings.region}:000000000000:execution:${options.workflow}:${executionName}`,
        Name: executionName,
      },
    },
  });
  control.abort = () => execution.abort();
  let aborted = false;
  const stopWithParent = child?.parent.onStop(() => {
    aborted = true;
    control.stop('States.Aborted', 'Its parent execution stopped, and the .sync integration stopped it.');
  });
  const events = followEvents(execution, control, seen, {
    sandboxWaits: tasks.sandboxWaits,
    containers,
    emit: options.onEvent ?? (() => undefined),
    containerFailed: (state) => cancelWaits(state),
  });
  const ended = (result: Pick<RunResult, 'status' | 'output' | 'error'>): RunResult => ({
    ...result,
    workflow: options.workflow,
    executionName,
    ...(aborted ? { aborted: true as const } : {}),
    visited: seen.visited,
    history: seen.history,
    invocations: control.counted(),
    ...(children.length ? { children } : {}),
    wallMs: Date.now() - started,
  });
  try {
    const output = await execution.result;
    await events;
    return ended({ status: 'SUCCEEDED', output });
  } catch (error) {
    await events.catch(() => undefined);
    return ended({ status: 'FAILED', error: failure(error, control) });
  } finally {
    // Nothing of this run may go on after it returns: wait out the Tasks still running.
    cancelWaits();
    await control.settle();
    stopWithParent?.();
  }
}

/** How a run ended, as the sandbox's Step Functions records an execution's end. */
export function executionEnd(result: RunResult): ExecutionEnd {
  if (result.status === 'SUCCEEDED') return { status: 'SUCCEEDED', output: result.output };
  return { status: result.aborted ? 'ABORTED' : 'FAILED', error: result.error?.name, cause: result.error?.cause };
}
