import { MODES, type Mode } from '#lib/network/modes';
import type { NetworkReport } from '#lib/network/report';
import { deployDesiredStateLocally } from './desired-state';
import type { LocalWorkflow } from './types';

/**
 * `hybridops run reconcile-network`: the input is `{"mode": "plan"|"apply"}`. On the sandbox the
 * desired state is "deployed" first (see {@link deployDesiredStateLocally}).
 */
export const reconcileNetwork: LocalWorkflow = {
  name: 'reconcile-network',

  async prepare(body, local) {
    let input: { mode?: unknown; trigger?: unknown };
    try {
      input = JSON.parse(body);
    } catch (error) {
      return { ok: false, problems: [`the input is not JSON: ${(error as Error).message}`] };
    }
    if (!MODES.includes(input.mode as Mode)) {
      return { ok: false, problems: [`mode must be plan or apply, not ${JSON.stringify(input.mode)}`] };
    }
    const problems = await deployDesiredStateLocally(local);
    if (problems.length) return { ok: false, problems };
    return {
      ok: true,
      input: { mode: input.mode, trigger: typeof input.trigger === 'string' ? input.trigger : 'local' },
      banner: `${input.mode} the network of stage ${local.runtime.settings.stage}`,
    };
  },

  summarize(result, out) {
    const report = (result.status === 'SUCCEEDED' ? result.output : undefined) as NetworkReport | undefined;
    if (!report) {
      out.line(`FAILED: ${result.error?.name}`);
      out.line(`  ${result.error?.cause}`);
      return;
    }
    out.line(
      `${result.status}: ${report.actionsTotal} action(s), ${report.conflicts.length} conflict(s), ${report.findings.length} finding(s)`,
    );
    for (const a of report.actions)
      out.line(`  ${a.outcome ? `[${a.outcome}] ` : ''}${a.type} ${a.resource}: ${a.detail}`);
    if (report.actionsTotal > report.actions.length) {
      out.line(`  ... ${report.actionsTotal - report.actions.length} more in ${report.reportKey}`);
    }
    for (const c of report.conflicts) out.line(`  [left alone] ${c.resource}: ${c.message}`);
    for (const f of report.findings) out.line(`  [${f.severity}] ${f.resource}: ${f.message}`);
    for (const p of report.published as Array<{ parameter: string; result: string }>) {
      out.line(`  mount targets ${p.result === 'published' ? 'published to' : 'unchanged in'} ${p.parameter}`);
    }
    if (report.mode === 'plan' && report.actionsTotal)
      out.line('  Nothing was changed; run with {"mode": "apply"} to apply.');
  },
};
