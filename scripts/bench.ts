/**
 * `npm run bench`: measures what the tests must not time (these machines are shared and noisy,
 * so figures are medians of several runs) and writes bench/report.md:
 * - per function: its deployment package as `osls package` writes it (zip, bundle, the SDK clients
 *   inside) and its module init time, against the baseline from before the SDK was bundled
 *   (bench/functions-before-bundling.json; `npm run bench -- --baseline <git ref>` records it);
 * - the local onboarding on the sandbox: wall time, state transitions, AWS API calls, each
 *   against its lower bound;
 * - the fleet (onboard-fleet) of the seed's 10-server PoC and of 100 servers: the same, with the
 *   children's transitions and the largest state;
 * - the footprint: the tool's own monthly AWS bill at 10, 100 and 1,000 nodes
 *   (`npm run bench -- --only footprint` measures it alone and rewrites that section).
 */
import '#lib/polyfills';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRuntime } from '#cli/local-runtime';
import { prepareAndRun } from '#cli/local-run';
import { PROJECT_ROOT } from '#cli/serverless-config';
import { type FunctionFigures, functionsBench, loadBaseline, recordBaseline } from './bench-functions';
import { onboardNode } from '#cli/workflows/onboard-node';
import { networkBench } from './bench-network';
import { sweepBench } from './bench-sweep';
import { fleetBench } from './bench-fleet';
import { footprintBench, footprintReport, replaceSection } from './bench-footprint';
import { backoffSeconds } from '#lib/onboarding/backoff';
import { ONBOARDING_TIMINGS } from '#lib/settings';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Runs the onboarding on a fresh sandbox RUNS times (scenario joins). */
async function onboarding() {
  const body = readFileSync(join(PROJECT_ROOT, 'events', 'onboard-node.json'), 'utf8');
  const runs: Array<{ wallMs: number; transitions: number; calls: Record<string, number>; kube: number }> = [];
  for (let i = 0; i < RUNS; i += 1) {
    const home = mkdtempSync(join(tmpdir(), 'hybridops-bench-'));
    const local = localRuntime('sandbox', home, {}, { scenario: 'joins' });
    const started = Date.now();
    const { result } = await prepareAndRun(onboardNode, local, body);
    const wallMs = Date.now() - started;
    if (result.status !== 'SUCCEEDED') throw new Error(`onboarding failed: ${JSON.stringify(result.error)}`);
    const calls: Record<string, number> = {};
    for (const c of local.estate?.calls ?? []) {
      if (c.service === 'kubernetes') continue;
      const name = `${c.service}:${c.command}`;
      calls[name] = (calls[name] ?? 0) + 1;
    }
    const kube = (local.estate?.calls ?? []).filter((c) => c.service === 'kubernetes').length;
    runs.push({ wallMs, transitions: result.history.filter((e) => e.type === 'StateEntered').length, calls, kube });
    rmSync(home, { recursive: true, force: true });
  }
  return runs;
}

async function main() {
  const baselineAt = process.argv.indexOf('--baseline');
  if (baselineAt >= 0) {
    const ref = process.argv[baselineAt + 1];
    if (!ref)
      throw new Error('--baseline takes a git ref: the commit to measure (one from before the SDK was bundled).');
    const baseline = recordBaseline(ref, RUNS);
    console.log(`bench/functions-before-bundling.json: ${baseline.functions.length} functions of ${baseline.commit}`);
    return;
  }
  const onlyAt = process.argv.indexOf('--only');
  if (onlyAt >= 0) {
    const part = process.argv[onlyAt + 1];
    if (part !== 'footprint')
      throw new Error(`--only takes the part to run alone: footprint (got ${part ?? 'nothing'}).`);
    const section = footprintReport(await footprintBench());
    writeReportSection(section);
    console.log(section.join('\n'));
    return;
  }
  const fns = functionsBench(RUNS);
  const runs = await onboarding();
  const net = await networkBench(RUNS);
  const sweeps = await sweepBench([100, 1000, 10000], RUNS);
  const fleets = await fleetBench([10, 100]);
  const last = runs.at(-1);
  if (!last) throw new Error('no runs');
  const { polls, reads } = scenarioLooks(loadScenario());
  // The 15 states every successful onboarding enters (CheckInput and FinishComplete included);
  // each extra poll adds a Wait, a Task and a Choice.
  const minTransitions = 15;
  const scenarioTransitions = minTransitions + 3 * (polls - 1) + 3 * (reads - 1);
  // Needed calls: validation (DescribeCluster, DescribeVpcs); preflight (the same two, plus
  // ListAccessEntries, DescribeAccessEntry, PutParameter lock); DescribeActivations (an earlier
  // attempt's leftover), CreateActivation, PutParameter code; GetParameter code, PutParameter
  // NodeConfig; the team's GetParameter NodeConfig; one DescribeInstanceInformation per poll;
  // DeleteParameters, GetParameter + DeleteParameter lock, DescribeActivations (a duplicate a
  // lost answer may have left), DeleteActivation; Publish.
  const fixedCalls = 2 + 5 + 3 + 2 + 1 + 5 + 1;
  const apiCalls = Object.values(last.calls).reduce((a, b) => a + b, 0);
  const lines = [
    '# Benchmark report',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, median of ${RUNS} runs.`,
    '',
    ...functionsReport(fns),
    '## Local onboarding (sandbox estate, scenario joins)',
    '',
    `The simulated server registers, and its Node turns Ready, late enough that the workflow's backoff`,
    `schedule needs ${polls} registration polls and ${reads} Node reads; one of each is the floor.`,
    '',
    '| measure | value | lower bound |',
    '|---|---:|---:|',
    `| wall time (validation + workflow) | ${median(runs.map((r) => r.wallMs))} ms | - |`,
    `| state transitions | ${last.transitions} | ${scenarioTransitions} for this scenario (${minTransitions} if the server registered and was Ready at the first look) |`,
    `| AWS API calls | ${apiCalls} | ${fixedCalls + polls} (${fixedCalls} fixed + ${polls} polls) |`,
    `| Kubernetes API reads | ${last.kube} | ${reads} |`,
    '',
    'AWS API calls by command:',
    '',
    ...Object.entries(last.calls)
      .sort()
      .map(([name, count]) => `- ${name}: ${count}`),
    '',
    'DescribeCluster and DescribeVpcs run twice on purpose: once to answer `POST /nodes` with every',
    'problem before anything starts, and again in the workflow, which can be started on its own and runs later.',
    '',
  ];
  const netRun = net.results.at(-1);
  lines.push(
    '## Network reconciler at scale (sandbox)',
    '',
    `${net.rules} forwarding rules in the account, ${net.vpcs} VPCs, ${net.associations} rule associations; the stage declares`,
    `${net.declared} domains, each for all ${net.vpcs} VPCs. 50 associations are missing and 5 rules have a wrong target.`,
    '',
    '| measure | value | lower bound |',
    '|---|---:|---:|',
    `| plan wall time | ${median(net.results.map((r) => r.planMs)).toFixed(0)} ms | - |`,
    `| plan AWS calls | ${netRun?.planCalls} | ${net.lowerPlan} (2 cluster reads + list pages + ${net.declared} tag reads of candidate rules) |`,
    `| changes planned | ${netRun?.changes} | 55 |`,
    `| apply AWS calls | ${netRun?.applyCalls} | ${net.lowerApply} (one per change, and one look at each association and rule update AWS makes asynchronously) |`,
    `| apply run-store calls (plan and outcomes) | ${netRun?.storeCalls} | - |`,
    `| actions in a plan right after | ${netRun?.replan} | 0 |`,
    '',
  );
  lines.push(
    '## Nightly sweep at scale (sandbox)',
    '',
    'The whole nightly-sweep state machine (real ASL and handlers) over one cluster of N hybrid nodes:',
    '2% NotReady (their kubelet does not answer), 1% on an unsupported OS, EFS declared. Wall time is',
    "the sandbox's: its probes answer at once from link profiles, so it measures this project's own work",
    '(listing, batching, classifying, merging), not the network. AWS reads are list pages at each',
    "API's largest page size plus the fixed reads; S3 calls are the sweep store's objects, each written",
    'once and read once by the next step.',
    '',
    '| nodes | wall time | state transitions | largest state (limit 256 KiB) | probe batches | findings | AWS reads | lower bound | S3 calls | lower bound | SNS messages |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...sweeps.map(
      (s) =>
        `| ${s.nodes.toLocaleString('en-US')} | ${s.wallMs.toFixed(0)} ms | ${s.transitions} | ${kb(s.maxStateBytes)} | ${s.batches} | ${s.findings} | ${s.reads} | ${s.lowerReads} | ${s.s3} | ${s.lowerS3} | ${s.sns} |`,
    ),
    '',
    `AWS calls at ${sweeps.at(-1)?.nodes.toLocaleString('en-US')} nodes, by command:`,
    '',
    ...Object.entries(sweeps.at(-1)?.calls ?? {})
      .sort()
      .map(([name, count]) => `- ${name}: ${count}`),
    '',
  );
  lines.push(
    '## Fleet onboarding (sandbox, scenario joins)',
    '',
    "The onboard-fleet state machine (real ASL and handlers), each server's onboarding a child execution of",
    'onboard-node run in process: the PoC (gpu-node-01..10, 10 at a time) and 100 servers (40 at a time, the',
    "inline Map's ceiling). Transitions are the fleet's own and its children's; the fleet's stay within 1.5x",
    "of the children's as long as its own are under half of theirs. AWS calls include the integration's",
    'StartExecution per child; the lower bound is every server joining at the first look.',
    '',
    '| servers | outcome | wall time | fleet transitions | children transitions | total / children | largest fleet state | largest child state | AWS calls | lower bound |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...fleets.map(
      (f) =>
        `| ${f.servers} | ${f.status}: ${f.headline} | ${f.wallMs} ms | ${f.fleetTransitions} | ${f.childTransitions} | ${((f.fleetTransitions + f.childTransitions) / Math.max(1, f.childTransitions)).toFixed(2)} | ${kb(f.fleetMaxStateBytes)} | ${kb(f.childMaxStateBytes)} | ${f.awsCalls} | ${f.lowerBound} |`,
    ),
    '',
    `AWS calls at ${fleets.at(-1)?.servers} servers, by command:`,
    '',
    ...Object.entries(fleets.at(-1)?.calls ?? {})
      .sort()
      .map(([name, count]) => `- ${name}: ${count}`),
    '',
  );
  lines.push(...footprintReport(await footprintBench()));
  mkdirSync(join(PROJECT_ROOT, 'bench'), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, 'bench', 'report.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

/** Rewrites one section of bench/report.md, leaving the others as the last full run wrote them. */
function writeReportSection(section: string[]) {
  const file = join(PROJECT_ROOT, 'bench', 'report.md');
  writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), section));
}

const clientName = (client: string) => client.replace('@aws-sdk/client-', '');

/** The Functions section: each function as deployed now, and against the baseline when one is recorded. */
function functionsReport(fns: FunctionFigures[]): string[] {
  const lines = [
    '## Functions',
    '',
    'Each function as `osls package` writes it: one esbuild bundle with the AWS SDK clients inside',
    '(serverless.yml `custom.esbuild`), zipped with its source map (mappings only). Module init is `require()`',
    'of the bundle in a fresh Node process with `NODE_OPTIONS=--enable-source-maps`, as in Lambda, from a',
    'directory that holds the bundle and nothing else. The SDK clients are those in the bundle (from its source',
    'map), with the number of their commands esbuild kept: those the code sends, the rest tree-shaken away.',
    '',
    '| function | zip | bundle | source map | SDK clients in the bundle (commands) | module init | RSS after init |',
    '|---|---:|---:|---:|---|---:|---:|',
    ...fns.map(
      (f) =>
        `| ${f.key} | ${kb(f.zipBytes)} | ${kb(f.jsBytes)} | ${kb(f.mapBytes)} | ${f.bundled.map((b) => `${clientName(b.client)} (${b.commands})`).join(', ') || 'none'} | ${f.initMs.toFixed(0)} ms | ${f.rssMiB.toFixed(0)} MiB |`,
    ),
    '',
  ];
  const outside = fns.filter((f) => f.loadedFromRuntime.length > 0).map((f) => f.key);
  if (outside.length) lines.push(`Loaded SDK clients from outside their bundle (must not): ${outside.join(', ')}.`, '');
  const baseline = loadBaseline();
  if (!baseline) return lines;
  const now = new Map(fns.map((f) => [f.key, f]));
  const total = (list: FunctionFigures[], pick: (f: FunctionFigures) => number) =>
    list.reduce((a, f) => a + pick(f), 0);
  lines.push(
    `### Before bundling: the SDK from the Lambda runtime (commit ${baseline.commit}, measured ${baseline.date}, Node ${baseline.node})`,
    '',
    "The same measure on that commit's packages (`@aws-sdk/*` external): the SDK came from the runtime, which",
    'the bench stands in for with NODE_PATH to node_modules, and every client a bundle required at load was',
    'loaded, whether the function calls it or not.',
    '',
    '| function | zip before | zip now | bundle before | SDK clients loaded at init, before | module init before | module init now | RSS before | RSS now |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|',
    ...baseline.functions.map((b) => {
      const f = now.get(b.key);
      return `| ${b.key} | ${kb(b.zipBytes)} | ${f ? kb(f.zipBytes) : '-'} | ${kb(b.jsBytes)} | ${b.loadedFromRuntime.map(clientName).join(', ') || 'none'} | ${b.initMs.toFixed(0)} ms | ${f ? `${f.initMs.toFixed(0)} ms` : '-'} | ${b.rssMiB.toFixed(0)} MiB | ${f ? `${f.rssMiB.toFixed(0)} MiB` : '-'} |`;
    }),
    `| all (${baseline.functions.length} before, ${fns.length} now) | ${kb(total(baseline.functions, (f) => f.zipBytes))} | ${kb(total(fns, (f) => f.zipBytes))} | ${kb(total(baseline.functions, (f) => f.jsBytes))} | | ${total(baseline.functions, (f) => f.initMs).toFixed(0)} ms | ${total(fns, (f) => f.initMs).toFixed(0)} ms | | |`,
    '',
  );
  return lines;
}

interface ScenarioTimes {
  registersAfterSeconds: number;
  nodeAppearsAfterSeconds: number;
  readyAfterSeconds: number;
}

function loadScenario(): ScenarioTimes {
  const { parse } = require('yaml') as typeof import('yaml');
  const seed = parse(readFileSync(join(PROJECT_ROOT, 'sandbox', 'estate.yaml'), 'utf8'));
  return seed.scenarios.joins;
}

/**
 * The fewest polls and reads the workflow's wait schedule (the Pass state's first wait, then
 * backoffSeconds) can need to see the scenario's registration and Ready Node.
 */
function scenarioLooks(times: ScenarioTimes): { polls: number; reads: number } {
  const t = ONBOARDING_TIMINGS;
  const looks = (first: number, max: number, due: number) => {
    let elapsed = first;
    let count = 1;
    while (elapsed < due) {
      elapsed += backoffSeconds(count - 1, first, max, t.backoffRate);
      count += 1;
    }
    return { count, elapsed };
  };
  const polls = looks(t.registrationFirstWaitSeconds, t.registrationMaxWaitSeconds, times.registersAfterSeconds);
  // The Node wait starts when the registration is seen, which is after the server registered.
  const sinceRegistration = polls.elapsed - times.registersAfterSeconds;
  const reads = looks(
    t.nodeFirstWaitSeconds,
    t.nodeMaxWaitSeconds,
    times.nodeAppearsAfterSeconds + times.readyAfterSeconds - sinceRegistration,
  );
  return { polls: polls.count, reads: reads.count };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
