import {
  ExecutionStatus,
  InvalidToken,
  ListExecutionsCommand,
  type ListExecutionsCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { RequestRejectedError } from '../errors';
import type { Settings } from '../settings';
import { requireStateMachine } from './api';
import type { Problem } from './request';

/** The statuses `GET /nodes?status=` filters on: Step Functions' own for a standard execution (SDK `ExecutionStatus`). */
export const LISTED_STATUSES = [
  ExecutionStatus.RUNNING,
  ExecutionStatus.SUCCEEDED,
  ExecutionStatus.FAILED,
  ExecutionStatus.TIMED_OUT,
  ExecutionStatus.ABORTED,
] as const;

/** Onboardings per page when `limit` is not given, and the most one page holds. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

/** One onboarding request in `GET /nodes`. */
export interface ListedOnboarding {
  requestId: string;
  status: string;
  startedAt: string;
  stoppedAt?: string;
}

export interface OnboardingPage {
  nodes: ListedOnboarding[];
  nextToken?: string;
}

/** The query string of `GET /nodes`, as API Gateway passes it (null without one). */
export type ListQuery = Record<string, string | undefined> | null;

const QUERY_FIELDS = ['status', 'limit', 'nextToken'];

function parseQuery(query: ListQuery): { status?: ExecutionStatus; limit: number; nextToken?: string } {
  const q = query ?? {};
  const problems: Problem[] = Object.keys(q)
    .filter((key) => !QUERY_FIELDS.includes(key))
    .map((key) => ({ field: key, message: `${key} is not a parameter of GET /nodes (${QUERY_FIELDS.join(', ')})` }));
  const status = q.status;
  if (status !== undefined && !(LISTED_STATUSES as readonly string[]).includes(status)) {
    problems.push({ field: 'status', message: `status must be one of ${LISTED_STATUSES.join(', ')}, not '${status}'` });
  }
  const limit = q.limit === undefined ? DEFAULT_LIMIT : /^\d{1,4}$/.test(q.limit) ? Number(q.limit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    problems.push({ field: 'limit', message: `limit must be a whole number from 1 to ${MAX_LIMIT}, not '${q.limit}'` });
  }
  if (q.nextToken !== undefined && !q.nextToken) {
    problems.push({ field: 'nextToken', message: 'nextToken must be the nextToken of the previous page, not empty' });
  }
  if (problems.length) {
    throw new RequestRejectedError(`The list request has ${problems.length} problem(s).`, { details: { problems } });
  }
  return {
    ...(status ? { status: status as ExecutionStatus } : {}),
    limit,
    ...(q.nextToken ? { nextToken: q.nextToken } : {}),
  };
}

/**
 * `GET /nodes?status=&limit=&nextToken=`: the onboarding requests, newest first, one page of
 * Step Functions ListExecutions on the onboard-node state machine (an execution's name is its
 * request id: lib/onboarding/submit.ts starts it so). Step Functions orders them: running ones
 * by their start, ended ones by their stop (ListExecutionsCommand). Its `nextToken` is passed
 * through; it expires after 24 hours ("HTTP 400 InvalidToken"), which is a 400 here too.
 */
export async function listOnboardings(
  deps: { sfn: SFNClient; settings: Pick<Settings, 'onboardStateMachineArn'> },
  query: ListQuery,
): Promise<OnboardingPage> {
  const { status, limit, nextToken } = parseQuery(query);
  let page: ListExecutionsCommandOutput;
  try {
    page = await deps.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: requireStateMachine(deps.settings),
        maxResults: limit,
        ...(status ? { statusFilter: status } : {}),
        ...(nextToken ? { nextToken } : {}),
      }),
    );
  } catch (error) {
    if (error instanceof InvalidToken) {
      throw new RequestRejectedError('nextToken is not one this list gave, or it has expired (after 24 hours).', {
        details: { problems: [{ field: 'nextToken', message: 'not a current nextToken of GET /nodes' }] },
        fix: 'List again without nextToken, with the same status filter.',
      });
    }
    throw error;
  }
  return {
    nodes: (page.executions ?? []).map((e) => ({
      requestId: e.name ?? '',
      status: e.status ?? 'UNKNOWN',
      startedAt: e.startDate?.toISOString() ?? '',
      ...(e.stopDate ? { stoppedAt: e.stopDate.toISOString() } : {}),
    })),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
}
