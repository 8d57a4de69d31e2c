import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionStatus,
  HistoryEventType,
  paginateGetExecutionHistory,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { AlertDeliveryError } from './errors';

/**
 * What the status APIs of every workflow share: one execution per request, named by its id, read
 * with DescribeExecution and, while it runs, its history.
 */

/** The ARN of the execution named `name` of a state machine (its ARN with `execution` for `stateMachine`). */
export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * Starts the execution named `name` (the request id) with `input`. The name taken already is the
 * same request when the execution's input has the same `requestDigest` (a retried call: `existing`),
 * and a client token reused for another request when not: `undefined`, and nothing was started.
 */
export async function startExecutionOnce(
  sfn: SFNClient,
  stateMachineArn: string,
  name: string,
  input: { requestDigest: string },
): Promise<{ executionArn: string; existing: boolean } | undefined> {
  try {
    const answer = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { executionArn: answer.executionArn ?? executionArn(stateMachineArn, name), existing: false };
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
  const arn = executionArn(stateMachineArn, name);
  const existing = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  const previous = JSON.parse(existing.input ?? '{}') as { requestDigest?: string };
  return previous.requestDigest === input.requestDigest ? { executionArn: arn, existing: true } : undefined;
}

/** The execution, or undefined when there is none of that ARN. */
export async function describeExecution(
  sfn: SFNClient,
  arn: string,
): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return undefined;
    throw error;
  }
}

/**
 * Pages of the execution history read, newest first, looking for the latest state and Task output:
 * the first page holds both almost always, and an execution has at most 25,000 events.
 */
export const HISTORY_PAGES = 10;
/** Events a page (GetExecutionHistory takes 0-1000): few, as each can carry up to 256 KiB of state data. */
const HISTORY_PAGE_SIZE = 50;

/**
 * The last state entered, and the state data the last Task left, from the execution history: read
 * newest first, page by page (a page can hold fewer events than asked, the API reference says),
 * until both are found or {@link HISTORY_PAGES} pages are read.
 */
export async function latestState<T>(sfn: SFNClient, arn: string): Promise<{ state?: string; latest?: T }> {
  let state: string | undefined;
  let latest: T | undefined;
  let pages = 0;
  for await (const page of paginateGetExecutionHistory(
    { client: sfn, pageSize: HISTORY_PAGE_SIZE },
    { executionArn: arn, reverseOrder: true },
  )) {
    for (const event of page.events ?? []) {
      if (!state && event.stateEnteredEventDetails?.name) state = event.stateEnteredEventDetails.name;
      if (!latest && event.type === HistoryEventType.TaskStateExited && event.stateExitedEventDetails?.output) {
        latest = JSON.parse(event.stateExitedEventDetails.output) as T;
      }
      if (state && latest) return { state, latest };
    }
    pages += 1;
    if (pages >= HISTORY_PAGES) break;
  }
  return { state, latest };
}

/** Keys of a result that are the workflow's own (the operators' message, retry bookkeeping), never the team's. */
const BOOKKEEPING = ['notification', 'attempt', 'retry', 'nextWaitSeconds'];

/** A result as the team reads it: without the operators' message and the workflow's bookkeeping (and `also`). */
export function withoutBookkeeping(result: Record<string, unknown>, also: readonly string[] = []) {
  const hidden = new Set([...BOOKKEEPING, ...also]);
  return Object.fromEntries(Object.entries(result).filter(([key]) => !hidden.has(key)));
}

/**
 * What an execution that has ended says to the team that asks: done with its result, failed with
 * its error, or, when it failed only because its alert could not be delivered, the outcome its
 * cause holds (the run's work, or how it failed) with `alertDelivered: false`.
 */
export function endedOutcome(
  execution: Pick<DescribeExecutionCommandOutput, 'status' | 'output' | 'error' | 'cause'>,
  hidden: readonly string[] = [],
): Record<string, unknown> {
  if (execution.status === ExecutionStatus.SUCCEEDED) {
    return { phase: 'done', result: withoutBookkeeping(JSON.parse(execution.output ?? '{}'), hidden) };
  }
  if (execution.error === AlertDeliveryError.errorName) return undeliveredOutcome(execution.cause, hidden);
  return { phase: 'failed', error: execution.error, cause: execution.cause };
}

function undeliveredOutcome(cause: string | undefined, hidden: readonly string[]): Record<string, unknown> {
  const alert = { alertDelivered: false };
  try {
    const undelivered = JSON.parse(cause ?? '') as {
      message?: string;
      result?: Record<string, unknown>;
      report?: { error?: string; summary?: string };
    };
    if (undelivered.result) {
      const result = withoutBookkeeping(undelivered.result, hidden);
      return { phase: 'done', result, ...alert, warning: undelivered.message };
    }
    if (undelivered.report) {
      return { phase: 'failed', error: undelivered.report.error, cause: undelivered.report.summary, ...alert };
    }
  } catch {
    // a cause this project did not write: report it as it is
  }
  return { phase: 'failed', error: AlertDeliveryError.errorName, cause, ...alert };
}
