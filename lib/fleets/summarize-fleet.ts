import { describeCaughtError } from '../caught-error';
import { splitFix } from '../errors';
import { capped, lines, type Notification, snsSubject } from '../notifications';
import type { OnboardingRequest } from '../onboarding/request';
import { mustGet, objectUri, type RunStore } from '../store';
import type { GpuVerdict } from '../onboarding/gpu-verification';
import type { FleetManifest, MemberResult } from './state';

/** One server of a finished fleet, as the API, the CLI and the message read it. */
export interface FleetNode {
  name: string;
  requestId: string;
  status: 'joined' | 'warning' | 'failed';
  /** The Node's name (the managed instance id, mi-...), once it joined. */
  nodeName: string | null;
  gpuRequested: number | null;
  gpuAllocatable: number | null;
  gpuVerdict: GpuVerdict | null;
  warnings: string[];
  /** A failed server: its error's name, what happened (the child's cause) and how to fix it. */
  error?: string;
  problem?: string;
  fix?: string;
  /**
   * What the server's run left (its cleanup or finish could not remove it): the commands that
   * remove it by hand, fixed when the fleet was submitted (the member's `manualCleanup`).
   */
  removeByHand?: string;
}

export interface FleetCounts {
  servers: number;
  /** Joined with nothing to report... */
  joined: number;
  /** ...joined with a warning (NotReady, GPUs not verified, the smoke test failed, something left)... */
  warning: number;
  /** ...or failed and cleaned up: the three add up to `servers`. */
  failed: number;
  /** GPU servers whose GPUs were verified (allocatable as requested), of `gpuServers`. */
  gpuVerified: number;
  gpuServers: number;
  /** GPUs allocatable on the joined servers (at most what each asked for), of `gpusRequested`. */
  gpusVerified: number;
  gpusRequested: number;
}

/** A server as the fleet's state and output carry it; the rest of it is in the stored result. */
export type FleetNodeLine = Pick<FleetNode, 'name' | 'requestId' | 'nodeName' | 'status' | 'gpuAllocatable'>;

/** What SummarizeFleet returns into the state: the summary, each server in one line (the full result is in the store). */
export type FleetOutcome = Omit<FleetSummary, 'nodes'> & { nodes: FleetNodeLine[] };

export interface FleetSummary {
  fleetId: string;
  cluster: string;
  status: 'joined' | 'warning' | 'failed';
  /** One line: counts and GPUs; the Fail state's cause when a server failed. */
  headline: string;
  counts: FleetCounts;
  nodes: FleetNode[];
  resultKey: string;
  notification: Notification;
}

/** The longest a failure's problem or fix is quoted in the result and the message. */
const MAX_TEXT = 600;
const bounded = (text: string | undefined) =>
  text === undefined ? undefined : text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 3)}...`;

/**
 * A failed member's error, what happened and the fix: the child's cause is its cleanup summary
 * ("Failed at <step> with <error>: <problem> Fix: <fix>"); PrepareMember's is a Lambda error.
 */
function failureOf(result: Extract<MemberResult, { status: 'FAILED' }>) {
  const described = describeCaughtError({ Error: result.error, Cause: result.cause });
  const { problem, fix } = described.fix ? described : splitFix(described.problem);
  // The cleanup summary repeats the error's name: "Failed at <step> with <error>: <problem>".
  const summary = /^Failed at (\S+) with \S+: ([\s\S]*)$/.exec(problem);
  const said = summary ? `at ${summary[1]}: ${summary[2]}` : problem;
  return { error: result.error, problem: bounded(said), fix: bounded(fix) };
}

/** A member's own commands for what it may have left, after a join and after a failure. */
type ManualCleanup = { afterJoin: string; afterFailure: string } | undefined;

/** Whether a run says it left something: the cleanup summary's "Left to remove", a warning naming what is left. */
const LEFT = /\bleft\b|remove by hand/i;

function nodeOf(result: MemberResult, member: { requested: number | null; manual: ManualCleanup }): FleetNode {
  const base = { name: result.name, requestId: result.requestId, gpuRequested: member.requested };
  if (result.status === 'FAILED') {
    const left = LEFT.test(result.cause ?? '') ? member.manual?.afterFailure : undefined;
    return {
      ...base,
      status: 'failed',
      nodeName: null,
      gpuAllocatable: null,
      gpuVerdict: null,
      warnings: [],
      ...failureOf(result),
      ...(left ? { removeByHand: left } : {}),
    };
  }
  const { brief } = result;
  const left = brief.warnings.some((w) => LEFT.test(w)) ? member.manual?.afterJoin : undefined;
  return {
    ...base,
    status: brief.status,
    nodeName: brief.instanceId,
    gpuAllocatable: brief.gpuAllocatable,
    gpuVerdict: brief.gpuVerdict,
    warnings: brief.warnings,
    ...(left ? { removeByHand: left } : {}),
  };
}

const removeLines = (n: FleetNode) =>
  n.removeByHand
    ? ['  Remove by hand whatever of this is still there:', ...n.removeByHand.split('\n').map((l) => `  ${l}`)]
    : [];

function countsOf(nodes: FleetNode[]): FleetCounts {
  const gpuNodes = nodes.filter((n) => n.gpuRequested !== null);
  return {
    servers: nodes.length,
    joined: nodes.filter((n) => n.status === 'joined').length,
    warning: nodes.filter((n) => n.status === 'warning').length,
    failed: nodes.filter((n) => n.status === 'failed').length,
    gpuVerified: gpuNodes.filter((n) => n.gpuVerdict === 'verified').length,
    gpuServers: gpuNodes.length,
    gpusVerified: gpuNodes.reduce(
      (sum, n) => sum + (n.status === 'failed' ? 0 : Math.min(n.gpuAllocatable ?? 0, n.gpuRequested ?? 0)),
      0,
    ),
    gpusRequested: gpuNodes.reduce((sum, n) => sum + (n.gpuRequested ?? 0), 0),
  };
}

const gpuText = (c: FleetCounts) =>
  c.gpuServers
    ? `; ${c.gpusVerified} of ${c.gpusRequested} GPUs verified (${c.gpuVerified} of ${c.gpuServers} GPU servers)`
    : '';

/** The operators' one message for the fleet: counts, each failure with its fix, each warning, GPU totals. */
function notificationOf(
  fleet: { fleetId: string; cluster: string; requester: string; resultUri: string },
  status: FleetSummary['status'],
  counts: FleetCounts,
  nodes: FleetNode[],
  headline: string,
): Notification {
  const failed = nodes.filter((n) => n.status === 'failed');
  const warned = nodes.filter((n) => n.status === 'warning');
  const joined = nodes.filter((n) => n.status !== 'failed');
  const more = `GET /fleets/${fleet.fleetId}`;
  const subject =
    status === 'failed'
      ? `[CRITICAL] fleet ${fleet.fleetId}: ${counts.failed} of ${counts.servers} failed, ${counts.servers - counts.failed} joined`
      : status === 'warning'
        ? `[WARNING] fleet ${fleet.fleetId}: ${counts.servers} joined, ${counts.warning} with warnings`
        : `[OK] fleet ${fleet.fleetId}: ${counts.servers} of ${counts.servers} joined`;
  const gpus = (n: FleetNode) =>
    n.gpuRequested === null
      ? ''
      : `, ${n.gpuAllocatable ?? 0} of ${n.gpuRequested} GPUs ${n.gpuVerdict === 'verified' ? 'verified' : `(${(n.gpuVerdict ?? 'not-checked').replace(/-/g, ' ')})`}`;
  const message = [
    `Fleet ${fleet.fleetId} onboarding into ${fleet.cluster}: ${headline}`,
    '',
    lines([
      ['Fleet', fleet.fleetId],
      ['Requested by', fleet.requester],
      ['Joined', counts.joined],
      ['Joined with warnings', counts.warning],
      ['Failed (cleaned up)', counts.failed],
      ['GPUs verified', counts.gpuServers ? `${counts.gpusVerified} of ${counts.gpusRequested}` : undefined],
    ]),
    ...(failed.length
      ? [
          '',
          'Failed, each cleaned up on its own (submit it again once fixed):',
          ...capped(
            failed,
            (n) => [
              `- ${n.name} (request ${n.requestId}): ${n.error}${n.problem?.startsWith('at ') ? ' ' : ': '}${n.problem ?? ''}`.trimEnd(),
              ...(n.fix ? [`  Fix: ${n.fix}`] : []),
              ...removeLines(n),
            ],
            more,
          ),
        ]
      : []),
    ...(warned.length
      ? [
          '',
          'Joined with warnings:',
          ...capped(
            warned,
            (n) => [`- ${n.name} (${n.nodeName})${gpus(n)}`, ...n.warnings.map((w) => `  ${w}`), ...removeLines(n)],
            more,
          ),
        ]
      : []),
    ...(joined.length
      ? ['', 'Joined:', ...capped(joined, (n) => [`- ${n.name} as ${n.nodeName}${gpus(n)}`], more)]
      : []),
    '',
    `Each server: GET /nodes/<request id>. The fleet: ${more}; its full result: ${fleet.resultUri}`,
  ].join('\n');
  return {
    subject: snsSubject(subject),
    message,
    severity: status === 'failed' ? 'critical' : status === 'warning' ? 'warning' : 'info',
    cluster: fleet.cluster,
    check: 'onboarding',
  };
}

/**
 * Task SummarizeFleet: counts the fleet's servers (joined, with warnings, failed, GPU-verified)
 * from the Map's results and the manifest (what each asked for), writes the full result to the run
 * store, and builds the operators' ONE message for the fleet.
 */
export async function summarizeFleet(
  deps: { store: RunStore; bucket?: string },
  input: {
    fleetId: string;
    cluster: string;
    requester: string;
    manifestKey: string;
    resultKey: string;
    results: MemberResult[];
  },
): Promise<FleetOutcome> {
  const manifest = await mustGet<FleetManifest>(deps.store, input.manifestKey);
  const members = new Map(
    manifest.members.map((m) => [
      m.requestId,
      {
        requested: (m.input.request as OnboardingRequest).gpu?.count ?? null,
        manual: m.input.resources?.manualCleanup,
      },
    ]),
  );
  const nodes = input.results.map((r) => nodeOf(r, members.get(r.requestId) ?? { requested: null, manual: undefined }));
  const counts = countsOf(nodes);
  const status = counts.failed ? 'failed' : counts.warning ? 'warning' : 'joined';
  const headline =
    `${counts.servers - counts.failed} of ${counts.servers} servers joined` +
    `${counts.warning ? ` (${counts.warning} with warnings)` : ''}, ${counts.failed} failed${gpuText(counts)}.` +
    (counts.failed
      ? ` Failed: ${nodes
          .filter((n) => n.status === 'failed')
          .map((n) => `${n.name} (${n.error})`)
          .join(', ')}.`
      : '');
  const notification = notificationOf(
    { ...input, resultUri: objectUri(deps.bucket, input.resultKey) },
    status,
    counts,
    nodes,
    headline,
  );
  const summary: FleetSummary = {
    fleetId: input.fleetId,
    cluster: input.cluster,
    status,
    headline: headline.length <= 2000 ? headline : `${headline.slice(0, 1997)}...`,
    counts,
    nodes,
    resultKey: input.resultKey,
    notification,
  };
  await deps.store.putJson(input.resultKey, summary);
  return {
    ...summary,
    nodes: nodes.map(({ name, requestId, nodeName, status: s, gpuAllocatable }) => ({
      name,
      requestId,
      nodeName,
      status: s,
      gpuAllocatable,
    })),
  };
}
