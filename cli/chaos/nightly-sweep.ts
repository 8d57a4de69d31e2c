import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import { MEMORY_KEY } from '#lib/sweep/store';
import { sandboxLocalRuntime } from '../local-runtime';
import { runPrepared } from '../local-run';
import { nightlySweep } from '../workflows/nightly-sweep';
import {
  answersLost,
  capturing,
  type ChaosWorkflow,
  commonInvariants,
  messageCounts,
  type Outcome,
  storeRefused,
  textCounts,
} from './engine';

/**
 * The nightly sweep under chaos: the sandbox's estate (three hybrid nodes, one NotReady, an
 * unsupported OS, an open NFS rule, a broken DNS path...), half the time after a clean night, so
 * that tonight has an alert memory to keep or replace.
 */

export const nightlySweepChaos: ChaosWorkflow = {
  name: 'nightly-sweep',
  // 0: the first night on a fresh estate; 1: a night after a clean one (its memory to compare).
  variants: 2,

  async arrange(r, home, variant) {
    const estate = withServices(SandboxEstate.inMemory());
    const local = { ...sandboxLocalRuntime(estate, home), estate };
    const prepared = await nightlySweep.prepare(JSON.stringify({ trigger: 'chaos' }), local);
    if (!prepared.ok) throw new Error(`the chaos input was rejected: ${prepared.problems.join('; ')}`);
    const kind = variant ?? (r.chance(0.5) ? 1 : 0);
    if (kind === 1) {
      await capturing(() => runPrepared(nightlySweep, local, prepared.input));
      estate.advance(24 * 3600);
    }
    return {
      local,
      workflow: nightlySweep,
      input: prepared.input,
      facts: { memoryBefore: memoryOf(estate) },
      variant: kind,
    };
  },

  async check(outcome) {
    const broken = commonInvariants(outcome);
    const { result, alerts } = outcome;
    const memory = memoryOf(outcome.estate);
    const before = outcome.arranged.facts.memoryBefore as string | undefined;
    const tonight = pendingMemoryOf(outcome);
    const failureAlerts = alerts.filter((a) => a.attributes.check === 'sweep');
    const pages = alerts.filter((a) => a.attributes.check !== 'sweep');
    if (result.status === 'FAILED' && memory !== before) {
      // CommitSweep wrote it and its answer was lost: the memory is tonight's, and every alert went out.
      const allOut = result.visited.includes('CommitSweep') && memory === tonight;
      if (!allOut) broken.push('a failed sweep leaves the alert memory unchanged');
    }
    if (result.status === 'SUCCEEDED' && memory !== tonight)
      broken.push("a night that succeeds keeps tonight's alert memory");
    // A page goes out once. Twice when SNS lost the answer to its publish (it cannot be told apart
    // from a publish that failed). And once more for each answer of the publishing Lambda that was
    // lost after it sent, if the record of what it sent could not be written either: then nothing
    // tells the retry (README, "No page twice").
    const messages = messageCounts(outcome);
    const resends = storeRefused(outcome, 'PublishSweepAlerts') ? answersLost(outcome, 'PublishSweepAlerts') : 0;
    const allowed = 1 + (messages.ambiguous ? 1 : 0) + resends;
    for (const [text, n] of textCounts(pages)) {
      if (n > allowed) broken.push(`no page twice in a night (${text.split('\n')[0]}: ${n} times)`);
    }
    if (result.status === 'FAILED' && result.error?.name !== 'AlertDeliveryError') {
      if (failureAlerts.length !== 1 && !messages.ambiguous) {
        broken.push(`a failed night sends one failure alert (${failureAlerts.length} were sent)`);
      }
      const said = failureAlerts[0]?.message ?? '';
      const truthful =
        /All( of \d+)? alert\(s\) went out/.test(said) ||
        said.includes('their record could not be read') ||
        pages.every((p) => said.includes(p.subject ?? ''));
      if (pages.length && !truthful) {
        broken.push(`the failure alert is true: ${pages.length} page(s) went out, and it does not name them`);
      }
    }
    if (result.status === 'SUCCEEDED' && failureAlerts.length)
      broken.push('a night that succeeds sends no failure alert');
    return broken;
  },
};

function memoryOf(estate: SandboxEstate): string | undefined {
  return estate.state.objects[sandboxStoreBucket(estate.seed.account)]?.[MEMORY_KEY];
}

/** Tonight's memory as the Merge step wrote it (runs/<sweepId>/alert-memory.json), if it got that far. */
function pendingMemoryOf(outcome: Outcome): string | undefined {
  const objects = outcome.estate.state.objects[sandboxStoreBucket(outcome.estate.seed.account)] ?? {};
  const written = outcome.calls.find(
    (c) => c.command === 'PutObject' && /^runs\/[^/]+\/alert-memory\.json$/.test(String(c.input?.Key)),
  );
  return written ? objects[String(written.input?.Key)] : undefined;
}
