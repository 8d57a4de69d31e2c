import type { SweepOutput } from '#lib/sweep/sweep-output';
import { deployDesiredStateLocally } from './desired-state';
import type { LocalWorkflow } from './types';

export type { SweepOutput };

/**
 * `hybridops run nightly-sweep`: the input is `{"trigger": "..."}` (optional). On the sandbox the
 * stage's desired state (config/sandbox.yaml, with its `sweep` section) is deployed first.
 */
export const nightlySweep: LocalWorkflow = {
  name: 'nightly-sweep',

  async prepare(body, local) {
    let input: unknown;
    try {
      input = JSON.parse(body || '{}');
    } catch (error) {
      return { ok: false, problems: [`the input is not JSON: ${(error as Error).message}`] };
    }
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      return { ok: false, problems: ['the input must be a JSON object such as {"trigger": "manual"}'] };
    }
    const { trigger = 'manual', ...rest } = input as { trigger?: unknown };
    const problems = [
      ...(typeof trigger === 'string' && /^[\w-]{1,64}$/.test(trigger)
        ? []
        : [
            `trigger must be a word of up to 64 letters, digits, - or _ (such as manual), not ${JSON.stringify(trigger)}`,
          ]),
      ...Object.keys(rest).map((k) => `unknown field '${k}': the input takes only trigger`),
    ];
    if (problems.length) return { ok: false, problems };
    const configProblems = await deployDesiredStateLocally(local);
    if (configProblems.length) return { ok: false, problems: configProblems };
    return { ok: true, input: { trigger }, banner: `sweep the hybrid estate of stage ${local.runtime.settings.stage}` };
  },

  summarize(result, out, sent) {
    const night = (result.status === 'SUCCEEDED' ? result.output : undefined) as SweepOutput | undefined;
    if (!night) {
      out.line(`FAILED: ${result.error?.name}`);
      out.line(`  ${result.error?.cause}`);
      return;
    }
    const c = night.counts;
    const nodes = night.inventory.clusters.map((x) => `${x.name}: ${x.nodes} hybrid Node(s), ${x.notReady} NotReady`);
    out.line(
      `${result.status}: ${night.findingsTotal} finding(s) (${c.new} new, ${c.worse} worse, ${c.open} still open), ${c.resolved} resolved, ${night.alerts.length} alert(s) sent`,
    );
    out.line(`  swept ${nodes.join('; ')}; ${night.inventory.targets} path(s) probed`);
    if (night.failedChecks.length) out.line(`  checks that could not run: ${night.failedChecks.join(', ')}`);
    for (const f of night.findings) {
      out.line(`  [${f.severity}] ${f.check} ${f.resource}: ${f.message}${f.status === 'open' ? ' (still open)' : ''}`);
    }
    if (night.findingsTotal > night.findings.length) {
      out.line(`  ... ${night.findingsTotal - night.findings.length} more in ${night.report}`);
    }
    for (const r of night.resolved) out.line(`  [resolved] ${r.resource} (${r.id})`);
    for (const message of sent) {
      out.line('');
      out.line(`  SNS: ${message.subject}`);
      for (const line of message.message.split('\n')) out.line(`    ${line}`);
    }
  },
};
