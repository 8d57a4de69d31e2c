import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { FailureReport } from '#lib/onboarding/cleanup';
import type { OnboardingSummary } from '#lib/onboarding/finish';
import { gpuLines } from '#lib/onboarding/gpu-summary';
import type { OnboardingInput } from '#lib/onboarding/state';
import { executionInput, validateSubmission } from '#lib/onboarding/submit';
import { displayPath } from '../display';
import type { RunResult } from '../runner';
import { writeNodeConfigHandout } from './handout';
import type { LocalWorkflow, Output } from './types';

/**
 * `hybridops run onboard-node`: the input file is the body of `POST /nodes`. It is validated as
 * the API validates it; once the NodeConfig is issued it is fetched as the team would fetch it
 * (`GET /nodes/{id}/nodeconfig`) and written to a 0600 file; the code itself is never printed.
 */
export const onboardNode: LocalWorkflow = {
  name: 'onboard-node',

  async prepare(body, local) {
    const validation = await validateSubmission(local.runtime, body);
    if (!validation.ok) {
      return { ok: false, problems: validation.problems.map((p) => `${p.field}: ${p.message}`) };
    }
    const input = executionInput(validation.request, `local:${userInfo().username}`, local.runtime.settings);
    const { node, cluster } = validation.request;
    return {
      ok: true,
      input,
      banner: `request ${input.requestId}: ${node.name} (${node.ip}, ${node.os}) into ${cluster}`,
    };
  },

  afterTask(local, out, input) {
    const { requestId } = input as OnboardingInput;
    return {
      RenderNodeConfig: async () => {
        const { file, commands } = await writeNodeConfigHandout(local, requestId, join(local.home, 'out', requestId));
        out.note(
          `NodeConfig written to ${displayPath(file)} (mode 0600; it holds the activation code). On the server run:`,
        );
        for (const command of commands) out.note(`    ${command}`);
      },
    };
  },

  summarize(result: RunResult, out: Output) {
    if (result.status === 'SUCCEEDED') {
      const s = result.output as OnboardingSummary;
      const left = s.left.length ? `; ${s.left.length} thing(s) left to remove (see the alert)` : '';
      const warned = s.brief?.status === 'warning' || Boolean(left);
      const gpus = s.gpu
        ? s.gpu.verdict === 'verified'
          ? `, with ${s.gpu.allocatable} of ${s.gpu.requested} GPUs verified`
          : `, but its GPUs are ${s.gpu.verdict === 'not-checked' ? 'not checked' : `not verified (${s.gpu.verdict})`}`
        : '';
      out.line(
        s.outcome === 'joined' && !s.finishError
          ? `SUCCEEDED${warned ? ' with a warning' : ''}: ${s.nodeName} joined ${s.cluster} as Node ${s.instanceId} and is Ready${gpus}${left}.`
          : s.finishError
            ? `SUCCEEDED with a warning: ${s.nodeName} joined ${s.cluster} as Node ${s.instanceId}, but its cleanup could not run (${s.finishError}).`
            : `SUCCEEDED with a warning: ${s.nodeName} joined ${s.cluster} as Node ${s.instanceId} but is NotReady${left}.`,
      );
      if (s.hint) out.line(`  ${s.hint}`);
      if (s.gpu) for (const line of gpuLines(s.gpu)) out.line(`  ${line}`);
      for (const w of s.brief?.warnings ?? []) if (w !== s.hint) out.line(`  WARNING: ${w}`);
      for (const l of s.left) out.line(`  left: ${l.kind} ${l.resource}: ${l.remove}`);
      if (s.timings) {
        out.line(
          `  phases: preflight ${s.timings.preflight} s, activation ${s.timings.issueActivation} s, NodeConfig ${s.timings.renderNodeConfig} s, registration ${s.timings.waitingForRegistration} s, Node ${s.timings.waitingForNode} s${s.timings.verifyingGpus === undefined ? '' : `, GPUs ${s.timings.verifyingGpus} s`}; total ${s.timings.total} s`,
        );
      }
      out.line(`  operators notified: ${s.notification.subject}`);
      return;
    }
    out.line(`FAILED: ${result.error?.name}`);
    out.line(`  ${result.error?.cause}`);
  },
};

export type { FailureReport };
