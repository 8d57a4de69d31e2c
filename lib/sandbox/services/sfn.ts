import * as sdk from '@aws-sdk/client-sfn';
import {
  type DescribeExecutionCommandInput,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionStatus,
  type GetExecutionHistoryCommandInput,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  HistoryEventType,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  type ListExecutionsCommandInput,
  type ListExecutionsCommandOutput,
  type StartExecutionCommandInput,
  type StartExecutionCommandOutput,
  StateMachineDoesNotExist,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import type { Answer, SandboxService } from '../service';

/**
 * Step Functions on the sandbox: StartExecution, DescribeExecution, GetExecutionHistory and
 * ListExecutions, as the status and list APIs call them (lib/executions.ts, lib/onboarding/list.ts). The sandbox does not interpret ASL itself: a started
 * execution runs with whatever runner the process installed ({@link runExecutionsWith}: the CLI's
 * local runner), and its history is recorded from that runner's steps. Shapes and errors are the
 * SDK's (node_modules/@aws-sdk/client-sfn/dist-types: StartExecutionCommand,
 * DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, models_0.d.ts).
 */

/** One step of a running execution, as its runner reports it. */
export interface ExecutionStep {
  kind: 'entered' | 'exited';
  state: string;
  /** The ASL state type (`Task`, `Choice`, ...): the history event's type is `<type>StateEntered|Exited`. */
  stateType: string;
  /** The state's input (entered) or output (exited). */
  data?: unknown;
}

/** How an execution ended, as its runner reports it. */
export type ExecutionEnd =
  { status: 'SUCCEEDED'; output: unknown } | { status: 'FAILED' | 'ABORTED'; error?: string; cause?: string };

/** What runs the executions StartExecution starts (the CLI installs one; the sandbox does not import cli/). */
export interface ExecutionRunner {
  /** Whether `stateMachineArn` is a state machine it runs: any other does not exist. */
  runs(stateMachineArn: string): boolean;
  /** Runs one execution to its end, telling `step` of each state entered and left. */
  run(
    execution: { stateMachineArn: string; name: string; input: unknown },
    step: (event: ExecutionStep) => void,
  ): Promise<ExecutionEnd>;
}

/** An execution the sandbox started, as its state keeps it (dates as ISO strings). */
export interface SandboxExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate?: string;
  output?: string;
  error?: string;
  cause?: string;
  events: Array<Omit<HistoryEvent, 'timestamp'> & { timestamp: string }>;
}

const runners = new WeakMap<SandboxEstate, ExecutionRunner>();

/** Makes `runner` run the executions started on `estate` (undefined: none run; StartExecution refuses). */
export function runExecutionsWith(estate: SandboxEstate, runner: ExecutionRunner | undefined): void {
  if (runner) runners.set(estate, runner);
  else runners.delete(estate);
}

/** Every execution started and not yet ended on an estate, for a caller that waits them out (tests). */
const running = new WeakMap<SandboxEstate, Set<Promise<void>>>();

/** Resolves when every execution started on `estate` so far has ended. */
export async function executionsEnded(estate: SandboxEstate): Promise<void> {
  await Promise.all([...(running.get(estate) ?? [])]);
}

const meta = { $metadata: {} };

// StartExecutionInput.name (SDK models_0.d.ts): 1-80 characters, no whitespace, none of
// < > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /, no control characters (U+0000-001F, U+007F-009F).
const BAD_NAME_CHARACTER = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/u;
export const isBadExecutionName = (name: string) =>
  name.length < 1 ||
  name.length > 80 ||
  BAD_NAME_CHARACTER.test(name) ||
  [...name].some((c) => {
    const code = c.codePointAt(0) ?? 0;
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });

const STATE_MACHINE_ARN = /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;

const executionsOf = (estate: SandboxEstate) => {
  estate.state.executions ??= {};
  return estate.state.executions;
};

function known(estate: SandboxEstate, arn: string | undefined): SandboxExecution {
  if (!arn || !EXECUTION_ARN.test(arn)) throw new InvalidArn({ ...meta, message: `Invalid Arn: '${arn}'` });
  const execution = executionsOf(estate)[arn];
  if (!execution) throw new ExecutionDoesNotExist({ ...meta, message: `Execution Does Not Exist: '${arn}'` });
  return execution;
}

function record(estate: SandboxEstate, execution: SandboxExecution, event: Omit<HistoryEvent, 'id' | 'timestamp'>) {
  const id = execution.events.length + 1;
  execution.events.push({
    ...event,
    id,
    previousEventId: id - 1,
    timestamp: estate.clock.now().toISOString(),
  } as SandboxExecution['events'][number]);
}

/** `TaskStateEntered`, `ChoiceStateExited`, ...: the SDK's HistoryEventType for a state type (Pass for one it lacks). */
function stepType(step: ExecutionStep): HistoryEventType {
  const type = `${step.stateType}State${step.kind === 'entered' ? 'Entered' : 'Exited'}`;
  return (Object.values(HistoryEventType) as string[]).includes(type)
    ? (type as HistoryEventType)
    : step.kind === 'entered'
      ? HistoryEventType.PassStateEntered
      : HistoryEventType.PassStateExited;
}

/** Records `execution`'s history as it runs: its start now, each state as `step` is told, its end. */
function historyOf(estate: SandboxEstate, execution: SandboxExecution): ExecutionTracker {
  record(estate, execution, {
    type: HistoryEventType.ExecutionStarted,
    executionStartedEventDetails: {
      input: execution.input,
      inputDetails: { truncated: false },
      roleArn: `${execution.stateMachineArn.split(':stateMachine:')[0]?.replace(':states:', ':iam:')}:role/sandbox`,
    },
  });
  const step = (event: ExecutionStep) => {
    const data = event.data === undefined ? undefined : JSON.stringify(event.data);
    if (event.kind === 'entered') {
      record(estate, execution, {
        type: stepType(event),
        stateEnteredEventDetails: { name: event.state, input: data, inputDetails: { truncated: false } },
      });
    } else {
      record(estate, execution, {
        type: stepType(event),
        stateExitedEventDetails: { name: event.state, output: data, outputDetails: { truncated: false } },
      });
    }
  };
  const end = (ended: ExecutionEnd) => {
    execution.stopDate = estate.clock.now().toISOString();
    if (ended.status === 'SUCCEEDED') {
      execution.status = ExecutionStatus.SUCCEEDED;
      execution.output = JSON.stringify(ended.output ?? null);
      record(estate, execution, {
        type: HistoryEventType.ExecutionSucceeded,
        executionSucceededEventDetails: { output: execution.output, outputDetails: { truncated: false } },
      });
    } else {
      execution.status = ended.status === 'ABORTED' ? ExecutionStatus.ABORTED : ExecutionStatus.FAILED;
      execution.error = ended.error;
      execution.cause = ended.cause;
      const details = { error: ended.error, cause: ended.cause };
      record(
        estate,
        execution,
        ended.status === 'ABORTED'
          ? { type: HistoryEventType.ExecutionAborted, executionAbortedEventDetails: details }
          : { type: HistoryEventType.ExecutionFailed, executionFailedEventDetails: details },
      );
    }
    estate.save();
  };
  return { step, end };
}

function start(estate: SandboxEstate, runner: ExecutionRunner, execution: SandboxExecution, input: unknown) {
  const history = historyOf(estate, execution);
  const runs = running.get(estate) ?? new Set<Promise<void>>();
  running.set(estate, runs);
  const done: Promise<void> = runner
    .run({ stateMachineArn: execution.stateMachineArn, name: execution.name, input }, history.step)
    .then(history.end, (error: unknown) =>
      history.end({
        status: 'FAILED',
        error: 'States.Runtime',
        cause: error instanceof Error ? error.message : String(error),
      }),
    )
    .finally(() => runs.delete(done));
  runs.add(done);
}

/** Told of an execution's states as it runs, and of its end. */
export interface ExecutionTracker {
  step: (event: ExecutionStep) => void;
  end: (ended: ExecutionEnd) => void;
}

/**
 * Records an execution that runs elsewhere, a `.sync` child the local runner starts for its parent,
 * so that the Step Functions API here answers for it (DescribeExecution, GetExecutionHistory,
 * ListExecutions) as AWS does: in AWS a child execution is an execution of its state machine like
 * any other (https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html). Only
 * where the sandbox serves executions (a runner is installed: `hybridops api serve`) and runs that
 * state machine; elsewhere nobody can ask, and undefined keeps the sandbox's state small.
 */
export function trackExecution(
  estate: SandboxEstate,
  started: { stateMachineArn: string; name: string; input: string },
): ExecutionTracker | undefined {
  if (!runners.get(estate)?.runs(started.stateMachineArn)) return undefined;
  const executionArn = `${started.stateMachineArn.replace(':stateMachine:', ':execution:')}:${started.name}`;
  const executions = executionsOf(estate);
  if (executions[executionArn]) return undefined;
  const execution: SandboxExecution = {
    executionArn,
    ...started,
    status: ExecutionStatus.RUNNING,
    startDate: estate.clock.now().toISOString(),
    events: [],
  };
  executions[executionArn] = execution;
  return historyOf(estate, execution);
}

/** An execution as ListExecutions gives it (ExecutionListItem); DescribeExecution adds to it. */
const listItem = (e: SandboxExecution) => ({
  executionArn: e.executionArn,
  stateMachineArn: e.stateMachineArn,
  name: e.name,
  status: e.status,
  startDate: new Date(e.startDate),
  ...(e.stopDate ? { stopDate: new Date(e.stopDate) } : {}),
  redriveCount: 0,
});

const pageToken = (offset: number) => Buffer.from(`sandbox:${offset}`).toString('base64');
function offsetOf(token: string | undefined): number {
  if (token === undefined) return 0;
  const match = /^sandbox:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  // "Using an expired pagination token will return an HTTP 400 InvalidToken error" (GetExecutionHistoryInput.nextToken).
  if (!match?.[1]) throw new InvalidToken({ ...meta, message: `Invalid Token: '${token}'` });
  return Number(match[1]);
}

export const sfnCommands = {
  StartExecution(estate: SandboxEstate, input: StartExecutionCommandInput): Answer<StartExecutionCommandOutput> {
    const stateMachineArn = String(input.stateMachineArn ?? '');
    if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
      throw new InvalidArn({ ...meta, message: `Invalid Arn: '${stateMachineArn}'` });
    }
    const runner = runners.get(estate);
    if (!runner?.runs(stateMachineArn)) {
      throw new StateMachineDoesNotExist({
        ...meta,
        message: `State Machine Does Not Exist: '${stateMachineArn}'${runner ? '' : ' (the sandbox runs executions only where the CLI installed its runner: hybridops api serve)'}`,
      });
    }
    // name is optional: Step Functions generates a UUID when absent (StartExecutionInput.name).
    const name = input.name ?? crypto.randomUUID();
    if (isBadExecutionName(name)) throw new InvalidName({ ...meta, message: `Invalid Name: '${name}'` });
    const text = input.input ?? '{}';
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InvalidExecutionInput({ ...meta, message: `Invalid State Machine Execution Input: '${text}'` });
    }
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const executions = executionsOf(estate);
    const existing = executions[executionArn];
    if (existing) {
      // STANDARD: the same name and input as a running execution returns it; a closed one, or
      // other input, is 400 ExecutionAlreadyExists (StartExecutionCommand).
      if (existing.status === ExecutionStatus.RUNNING && existing.input === text) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw new ExecutionAlreadyExists({ ...meta, message: `Execution Already Exists: '${executionArn}'` });
    }
    const execution: SandboxExecution = {
      executionArn,
      stateMachineArn,
      name,
      input: text,
      status: ExecutionStatus.RUNNING,
      startDate: estate.clock.now().toISOString(),
      events: [],
    };
    executions[executionArn] = execution;
    start(estate, runner, execution, parsed);
    return { executionArn, startDate: new Date(execution.startDate) };
  },

  DescribeExecution(
    estate: SandboxEstate,
    input: DescribeExecutionCommandInput,
  ): Answer<DescribeExecutionCommandOutput> {
    const e = known(estate, input.executionArn);
    const closed = e.status !== ExecutionStatus.RUNNING;
    return {
      ...listItem(e),
      input: e.input,
      inputDetails: { included: true },
      ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
      redriveStatus: !closed
        ? 'NOT_REDRIVABLE'
        : e.status === ExecutionStatus.SUCCEEDED
          ? 'NOT_REDRIVABLE'
          : 'REDRIVABLE',
    };
  },

  GetExecutionHistory(
    estate: SandboxEstate,
    input: GetExecutionHistoryCommandInput,
  ): Answer<GetExecutionHistoryCommandOutput> {
    const e = known(estate, input.executionArn);
    // maxResults: "The default is 100 and the maximum allowed page size is 1000. A value of 0 uses
    // the default." (GetExecutionHistoryInput.maxResults)
    const maxResults = input.maxResults ?? 0;
    if (maxResults < 0 || maxResults > 1000) {
      throw new ValidationException({
        ...meta,
        message: `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
      });
    }
    const size = maxResults || 100;
    const ordered = input.reverseOrder ? [...e.events].reverse() : e.events;
    const offset = offsetOf(input.nextToken);
    const page = ordered.slice(offset, offset + size);
    return {
      events: page.map((event) => ({ ...event, timestamp: new Date(event.timestamp) })),
      ...(offset + size < ordered.length ? { nextToken: pageToken(offset + size) } : {}),
    };
  },

  ListExecutions(estate: SandboxEstate, input: ListExecutionsCommandInput): Answer<ListExecutionsCommandOutput> {
    // "You can specify either a mapRunArn or a stateMachineArn, but not both" (ListExecutionsInput).
    if (input.mapRunArn !== undefined) {
      throw new SandboxNotImplementedError(
        'The sandbox has no Map Runs: ListExecutions lists the executions of a stateMachineArn here.',
        'Pass stateMachineArn, or run with --estate aws.',
      );
    }
    const stateMachineArn = String(input.stateMachineArn ?? '');
    if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
      throw new InvalidArn({ ...meta, message: `Invalid Arn: '${stateMachineArn}'` });
    }
    const all = Object.values(executionsOf(estate)).filter((e) => e.stateMachineArn === stateMachineArn);
    if (!all.length && !runners.get(estate)?.runs(stateMachineArn)) {
      throw new StateMachineDoesNotExist({ ...meta, message: `State Machine Does Not Exist: '${stateMachineArn}'` });
    }
    // "If you provide a stateMachineArn and a PENDING_REDRIVE statusFilter, the API returns a
    // validation exception" (ListExecutionsInput.statusFilter).
    if (input.statusFilter === ExecutionStatus.PENDING_REDRIVE) {
      throw new ValidationException({
        ...meta,
        message: 'PENDING_REDRIVE statusFilter can only be used with a mapRunArn, not a stateMachineArn.',
      });
    }
    if (input.statusFilter !== undefined && !Object.values(ExecutionStatus).includes(input.statusFilter)) {
      throw new ValidationException({
        ...meta,
        message: `1 validation error detected: Value '${input.statusFilter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${Object.values(ExecutionStatus).join(', ')}]`,
      });
    }
    // maxResults: "The default is 100 and the maximum allowed page size is 1000. A value of 0 uses
    // the default." (ListExecutionsInput.maxResults)
    const maxResults = input.maxResults ?? 0;
    if (maxResults < 0 || maxResults > 1000) {
      throw new ValidationException({
        ...meta,
        message: `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value ${maxResults < 0 ? 'greater than or equal to 0' : 'less than or equal to 1000'}`,
      });
    }
    const size = maxResults || 100;
    // "Results are sorted by time, with the most recent execution first. Running executions are
    // sorted by their startDate or redriveDate, and other executions are sorted by their stopDate"
    // (ListExecutionsCommand). Of two at the same time, the one started later comes first.
    const at = (e: SandboxExecution) =>
      Date.parse(e.status === ExecutionStatus.RUNNING ? e.startDate : (e.stopDate ?? e.startDate));
    const ordered = all
      .filter((e) => input.statusFilter === undefined || e.status === input.statusFilter)
      .reverse()
      .sort((a, b) => at(b) - at(a));
    const offset = offsetOf(input.nextToken);
    const page = ordered.slice(offset, offset + size);
    return {
      executions: page.map(listItem),
      ...(offset + size < ordered.length ? { nextToken: pageToken(offset + size) } : {}),
    };
  },
};

/** Step Functions: executions started here run with the runner the process installed. */
export const sfnService = {
  name: 'sfn',
  source: __filename,
  exceptions: { base: sdk.SFNServiceException, module: sdk },
  commands: sfnCommands,
} satisfies SandboxService;
