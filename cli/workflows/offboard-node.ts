import { userInfo } from 'node:os';
import type { FailureReport } from '#lib/offboarding/cleanup';
import type { OffboardingSummary } from '#lib/offboarding/remove';
import { executionInput, nodeLockedBy, validateOffboarding } from '#lib/offboarding/submit';
import type { LocalWorkflow } from './types';

/**
 * `hybridops run offboard-node`: the input file is `{"node": "<name>", ...options}`, the path
 * parameter and the body of `DELETE /nodes/{node}`, validated as the API validates them. A node
 * that is not there is refused (exit 2): on the sandbox, `npm start` joins gpu-node-01 first.
 */
export const offboardNode: LocalWorkflow = {
  name: 'offboard-node',

  async prepare(body, local) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return { ok: false, problems: [`the input is not JSON: ${(error as Error).message}`] };
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return {
        ok: false,
        problems: ['the input must be a JSON object such as {"node": "gpu-node-01", "force": false}'],
      };
    }
    const { node, ...options } = parsed as Record<string, unknown>;
    const validation = await validateOffboarding(local.runtime, { node, body: JSON.stringify(options) });
    if (!validation.ok) return { ok: false, problems: validation.problems.map((p) => `${p.field}: ${p.message}`) };
    if (validation.kind === 'gone') {
      const hint = local.estate
        ? ` On the sandbox, npm start onboards gpu-node-01 (run it first, with the same HYBRIDOPS_HOME).`
        : '';
      return { ok: false, problems: [`${String(node)} is not there: ${validation.message}${hint}`] };
    }
    const input = executionInput(
      validation.request,
      validation.target,
      `local:${userInfo().username}`,
      local.runtime.settings,
    );
    const busy = await nodeLockedBy(local.runtime, input, validation.request.node);
    if (busy) return { ok: false, problems: [`node: ${busy.problem} ${busy.fix ?? ''}`.trim()] };
    const { request } = validation;
    const name = input.target.onboardedName
      ? `${input.target.onboardedName} (${input.target.nodeName})`
      : input.target.nodeName;
    const options_ = [
      `drain timeout ${request.drainTimeoutSeconds} s`,
      ...(request.force ? ['force'] : []),
      ...(request.skipUninstall ? ['skip uninstall'] : []),
    ];
    return {
      ok: true,
      input,
      banner: `request ${input.requestId}: offboard ${name} from ${request.cluster} (${options_.join(', ')})`,
    };
  },

  summarize(result, out) {
    if (result.status === 'SUCCEEDED') {
      const s = result.output as OffboardingSummary;
      const name = s.onboardedName ? `${s.onboardedName} (${s.nodeName})` : s.nodeName;
      out.line(
        s.outcome === 'already-gone'
          ? `SUCCEEDED: ${name} was already gone from ${s.cluster}; nothing to offboard.`
          : `SUCCEEDED${s.left.length ? ' with a warning' : ''}: ${name} offboarded from ${s.cluster}; ${s.costPerDayUsd.toFixed(2)} USD a day stopped.`,
      );
      for (const a of s.actions) out.line(`  ${a.action} ${a.resource}: ${a.outcome}`);
      for (const l of s.left) out.line(`  left: ${l.kind} ${l.resource}: ${l.why}`);
      out.line(`  operators notified: ${s.notification.subject}`);
      return;
    }
    out.line(`FAILED: ${result.error?.name}`);
    out.line(`  ${result.error?.cause}`);
  },
};

export type { FailureReport };
