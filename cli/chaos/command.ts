import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../local-runtime';
import type { Streams } from '../main';
import { type ChaosSummary, type ChaosWorkflow, runChaos } from './engine';
import { nightlySweepChaos } from './nightly-sweep';
import { offboardNodeChaos } from './offboard-node';
import { onboardFleetChaos } from './onboard-fleet';
import { onboardNodeChaos } from './onboard-node';
import { reconcileNetworkChaos } from './reconcile-network';
import { upgradeNodesChaos } from './upgrade-nodes';

export const CHAOS_WORKFLOWS: Record<string, ChaosWorkflow> = {
  [onboardNodeChaos.name]: onboardNodeChaos,
  [offboardNodeChaos.name]: offboardNodeChaos,
  [reconcileNetworkChaos.name]: reconcileNetworkChaos,
  [nightlySweepChaos.name]: nightlySweepChaos,
  [upgradeNodesChaos.name]: upgradeNodesChaos,
  [onboardFleetChaos.name]: onboardFleetChaos,
};

export const CHAOS_HELP = `hybridops chaos: run a workflow's real state machine on fresh sandbox estates, each run with a
seeded random fault plan (1 to 3 AWS, Kubernetes, DNS, probe or Lambda faults), and check the
invariants operators rely on after every run.

Usage:
  hybridops chaos --workflow <name> [--runs N] [--seed S] [--json]

  --workflow   ${Object.keys(CHAOS_WORKFLOWS).join(' | ')}
  --runs       how many runs (default 100)
  --seed       the first run's seed (default: a random one, printed); run i uses seed S+i, so
               --seed <a violation's seed> --runs 1 reproduces it
  --json       print one JSON object: runs, passed, violations (seed, fault plan, invariant), endings

Exit codes: 0 no invariant broke, 1 some did, 2 misuse.
`;

export function parseChaosOptions(values: { workflow?: string; runs?: string; seed?: string }) {
  const workflow = values.workflow ? CHAOS_WORKFLOWS[values.workflow] : undefined;
  if (!workflow) {
    throw new UsageError(
      `chaos needs --workflow ${Object.keys(CHAOS_WORKFLOWS).join('|')}${values.workflow ? `, not '${values.workflow}'` : ''}`,
    );
  }
  const runs = Number(values.runs ?? 100);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100_000) {
    throw new UsageError(`--runs must be a whole number from 1 to 100000, not '${values.runs}'`);
  }
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31) {
    throw new UsageError(`--seed must be a whole number from 0 to 2147483648, not '${values.seed}'`);
  }
  return { workflow, runs, seed };
}

/** `hybridops chaos`: exit code 0 when no invariant broke. */
export async function chaosCommand(
  values: { workflow?: string; runs?: string; seed?: string; json?: boolean },
  io: Streams,
): Promise<number> {
  const { workflow, runs, seed } = parseChaosOptions(values);
  const home = mkdtempSync(join(tmpdir(), 'hybridops-chaos-'));
  const say = (text: string) => (values.json ? undefined : io.stdout.write(`${text}\n`));
  say(`hybridops chaos: ${workflow.name}, ${runs} run(s) from seed ${seed}`);
  let summary: ChaosSummary;
  try {
    summary = await runChaos(workflow, {
      runs,
      seed,
      home,
      onRun: (i, found) => {
        for (const v of found) say(`  seed ${v.seed}: ${v.invariant}`);
        if ((i + 1) % 100 === 0 && i + 1 < runs) say(`  ... ${i + 1} of ${runs} runs`);
      },
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    say(report(summary).join('\n'));
  }
  return summary.violations.length === 0 ? 0 : 1;
}

/** The summary for a person: the figures, how runs ended, and each violation with its plan. */
function report(s: ChaosSummary): string[] {
  const endings = Object.entries(s.endings)
    .sort((a, b) => b[1] - a[1])
    .map(([ending, n]) => `    ${String(n).padStart(5)}  ${ending}`);
  const lines = [
    '',
    `${s.violations.length === 0 ? 'PASSED' : 'FAILED'}: ${s.passed} of ${s.runs} run(s) kept every invariant; ${s.violations.length} violation(s); ${s.faults} fault(s) planned, ${s.faultsHit} hit; ${(s.wallMs / 1000).toFixed(1)} s`,
    '  runs ended:',
    ...endings,
  ];
  for (const v of s.violations.slice(0, 20)) {
    lines.push(
      '',
      `  seed ${v.seed}: ${v.invariant}`,
      `    run: ${v.run.status}${v.run.error ? ` ${v.run.error}` : ''}, last states ${v.run.last.join(' > ')}`,
      ...v.plan.map((p) => `    fault: ${p}`),
      `    reproduce: npm run chaos -- --workflow ${s.workflow} --runs 1 --seed ${v.seed}`,
    );
  }
  if (s.violations.length > 20) lines.push('', `  ... and ${s.violations.length - 20} more (--json lists them all)`);
  return lines;
}
