import { userInfo } from 'node:os';
import type { NodeLine, UpgradeReport } from '#lib/upgrades/report';
import { upgradeExecutionInput, validateUpgradeSubmission } from '#lib/upgrades/submit';
import type { RunResult } from '../runner';
import type { LocalWorkflow } from './types';

export type { UpgradeReport };

/**
 * The run's report: the execution's output when it succeeded; otherwise what ReportUpgrade
 * wrote in its state (a run that stopped at a failed node fails, with the report in its history).
 */
export function upgradeReportOf(result: RunResult): UpgradeReport | undefined {
  if (result.status === 'SUCCEEDED') return result.output as UpgradeReport;
  const exited = result.history.filter((h) => h.type === 'StateExited' && h.state === 'ReportUpgrade').at(-1);
  return (exited?.data as { report?: UpgradeReport } | undefined)?.report;
}

const line = (n: NodeLine) => {
  const id = n.nodeName && n.nodeName !== n.name ? ` (${n.nodeName})` : '';
  return `  ${n.name}${id}: ${n.state}${n.reason ? ` [${n.reason}]` : ''}: ${n.detail}`;
};

/**
 * `hybridops run upgrade-nodes`: the input file is the body of `POST /upgrades`, validated as the
 * API validates it. The summary lists each node and what was done to it; `--json` carries the
 * report (its `nodes`) whether the run succeeded or stopped.
 */
export const upgradeNodes: LocalWorkflow = {
  name: 'upgrade-nodes',

  async prepare(body, local) {
    const validation = await validateUpgradeSubmission(local.runtime, body);
    if (!validation.ok) {
      return { ok: false, problems: validation.problems.map((p) => `${p.field}: ${p.message}`) };
    }
    const input = upgradeExecutionInput(validation, `local:${userInfo().username}`, local.runtime.settings);
    const { request } = input;
    const { cluster, kubernetesVersion: target } = request;
    const which = request.nodes
      ? `nodes ${request.nodes.join(', ')} of ${cluster}`
      : request.selector
        ? `the hybrid nodes of ${cluster} matching ${request.selector}`
        : `every hybrid node of ${cluster} below ${target}`;
    return {
      ok: true,
      input,
      banner: `upgrade ${input.upgradeId}: ${which}, to ${target} (control plane ${validation.controlPlaneVersion}), ${request.maxUnavailable} at a time`,
    };
  },

  output: (result) => upgradeReportOf(result) ?? null,

  summarize(result, out, sent) {
    const report = upgradeReportOf(result);
    const head = result.status === 'SUCCEEDED' ? 'SUCCEEDED' : `FAILED: ${result.error?.name}`;
    if (!report) {
      out.line(head);
      out.line(`  ${result.error?.cause}`);
      return;
    }
    const c = report.counts;
    out.line(
      `${head}: ${c.upgraded} upgraded, ${c.failed} failed, ${c.skipped} skipped, ${c.untouched} untouched (${report.cluster} to ${report.target})`,
    );
    for (const n of report.nodes) out.line(line(n));
    for (const message of sent) out.line(`  operators notified: ${message.subject}`);
  },
};
