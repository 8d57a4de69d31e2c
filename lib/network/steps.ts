import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { EmptyDesiredStateError, InvalidDesiredStateError } from '../errors';
import { describeCaughtError, lines, type Notification, snsSubject } from '../onboarding/messages';
import { type DesiredState, isEmptyDesiredState, validateDesiredState } from './config';
import type { Action, Plan } from './plan';

/** The steps of statemachines/reconcile-network.asl.json that are not AWS reads or writes. */

export const MODES = ['plan', 'apply'] as const;
export type Mode = (typeof MODES)[number];

/**
 * Reads the deployed desired state (an SSM parameter CloudFormation writes from
 * config/<stage>.yaml) and validates it again. Apply is refused when it is invalid or empty, so
 * a broken config can never make the reconciler delete everything.
 */
export async function loadDesiredState(
  ssm: SSMClient,
  input: { parameter: string; mode: Mode },
): Promise<{ desired: DesiredState; empty: boolean }> {
  let text: string | undefined;
  try {
    text = (await ssm.send(new GetParameterCommand({ Name: input.parameter }))).Parameter?.Value;
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  if (!text) {
    throw new InvalidDesiredStateError(
      `The desired state parameter ${input.parameter} does not exist.`,
      'Deploy the stage (npx osls deploy): it writes config/<stage>.yaml there.',
    );
  }
  const result = validateDesiredState(JSON.parse(text));
  if (!result.ok) {
    throw new InvalidDesiredStateError(
      `The desired state in ${input.parameter} is invalid: ${result.problems.join('; ')}.`,
      'Fix config/<stage>.yaml and deploy again; nothing was changed.',
    );
  }
  const empty = isEmptyDesiredState(result.state);
  if (empty && input.mode === 'apply') {
    throw new EmptyDesiredStateError(
      `The desired state in ${input.parameter} declares nothing; apply is refused so that it cannot remove everything.`,
      'Declare the clusters and their DNS and EFS in config/<stage>.yaml, or run in plan mode.',
    );
  }
  return { desired: result.state, empty };
}

export interface NetworkReport {
  mode: Mode;
  trigger: string;
  actions: Action[];
  conflicts: Plan['conflicts'];
  findings: Plan['findings'];
  published: unknown[];
  /** DNS checked both ways (CheckResolution). */
  resolution: unknown[];
  failed: number;
  /** The SNS message to send, if any: drift found by a scheduled plan, failures, critical findings. */
  notification?: Notification;
}

/**
 * Writes the run's result and, when operators should hear of it, their alert: drift found by the
 * schedule (each difference and how to apply), actions that failed, critical findings.
 */
export function reportNetwork(input: {
  mode: Mode;
  trigger: string;
  stage: string;
  plan: Plan;
  applied?: Action[];
  published?: unknown[];
  resolution?: unknown[];
}): NetworkReport {
  const actions = input.applied ?? input.plan.actions;
  const failed = actions.filter((a) => a.outcome?.startsWith('failed')).length;
  const critical = input.plan.findings.filter((f) => f.severity === 'critical');
  const drift = input.mode === 'plan' && input.trigger === 'schedule' && actions.length > 0;
  const report: NetworkReport = {
    mode: input.mode,
    trigger: input.trigger,
    actions,
    conflicts: input.plan.conflicts,
    findings: input.plan.findings,
    published: input.published ?? [],
    resolution: input.resolution ?? [],
    failed,
  };
  if (!drift && failed === 0 && critical.length === 0) return report;
  const clusters = [...new Set([...actions, ...critical].map((x) => x.cluster))].join(', ') || 'all';
  const severity = failed || critical.length ? 'critical' : 'warning';
  const headline = failed
    ? `${failed} of ${actions.length} network change(s) failed`
    : drift
      ? `network drift: ${actions.length} difference(s) from the desired state`
      : `${critical.length} critical network finding(s)`;
  const message = [
    `${headline} (stage ${input.stage}, ${input.mode} mode, ${input.trigger}).`,
    '',
    ...actions.map((a) => `- ${a.type} ${a.resource}: ${a.detail}${a.outcome ? ` => ${a.outcome}` : ''}`),
    ...(input.plan.conflicts.length ? ['', 'Left alone (not managed by eks-hybrid-ops):'] : []),
    ...input.plan.conflicts.map((c) => `- ${c.resource}: ${c.message} Fix: ${c.fix}`),
    ...(input.plan.findings.length ? ['', 'Findings:'] : []),
    ...input.plan.findings.map((f) => `- [${f.severity}] ${f.resource}: ${f.message}${f.fix ? ` Fix: ${f.fix}` : ''}`),
    '',
    lines([
      [
        'To apply',
        drift
          ? 'POST /reconcile with {"mode": "apply"}, or hybridops run reconcile-network with mode apply'
          : undefined,
      ],
    ]),
  ].join('\n');
  report.notification = {
    subject: snsSubject(`[${severity.toUpperCase()}] ${headline}`),
    message: message.trimEnd(),
    severity,
    cluster: clusters,
    check: 'network',
  };
  return report;
}

/** The alert for a run that failed outright (a Catch): which step, which error, what to do. */
export function reportNetworkFailure(input: {
  stage: string;
  mode: string;
  failure: { Error: string; Cause?: string };
}) {
  const error = describeCaughtError(input.failure);
  const summary = `Network reconciliation (${input.mode}) failed with ${error.name}: ${error.problem}${error.fix ? ` Fix: ${error.fix}` : ''}`;
  const notification: Notification = {
    subject: snsSubject(`[CRITICAL] network reconciliation failed: ${error.name}`),
    message: [
      `Network reconciliation for stage ${input.stage} (${input.mode} mode) failed; nothing after the failing step ran.`,
      '',
      lines([
        ['Error', error.name],
        ['What happened', error.problem],
        ['How to fix', error.fix],
      ]),
    ].join('\n'),
    severity: 'critical',
    cluster: 'all',
    check: 'network',
  };
  return { error: error.name, summary, notification };
}
