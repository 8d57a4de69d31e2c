/**
 * `npm run bench`: measures what the tests must not time (these machines are shared and noisy,
 * so figures are medians of several runs) and writes bench/report.md:
 * - per function: bundle size (esbuild, as serverless.yml packages it) and module init time;
 * - the local onboarding on the sandbox: wall time, state transitions, AWS API calls, each
 *   against its lower bound.
 */
import '../lib/polyfills';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { localRuntime } from '../cli/local-runtime';
import { prepareAndRun } from '../cli/local-run';
import { loadServerlessConfig, PROJECT_ROOT } from '../cli/serverless-config';
import { onboardNode } from '../cli/workflows/onboard-node';
import { networkBench } from './bench-network';
import { sweepBench } from './bench-sweep';
import { backoffSeconds } from '../lib/onboarding/backoff';
import { ONBOARDING_TIMINGS } from '../lib/settings';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OUT = join(PROJECT_ROOT, '.bench');
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

interface InitSample {
  ms: number;
  rss: number;
  sdk: string[];
}

/** Node code that times `load`, then reports the time, RSS and the AWS SDK clients it loaded. */
function initProbe(load: string): string {
  return `const t=process.hrtime.bigint();${load};const ms=Number(process.hrtime.bigint()-t)/1e6;
const sdk=[...new Set(Object.keys(require.cache).map((k)=>(k.match(/node_modules\\/(@aws-sdk\\/client-[a-z0-9-]+)\\//)||[])[1]).filter(Boolean))].sort();
process.stdout.write(JSON.stringify({ms,rss:process.memoryUsage().rss,sdk}))`;
}

/** Bundles each function as serverless-esbuild does (custom.esbuild in serverless.yml). */
function bundles() {
  const config = loadServerlessConfig('bench');
  mkdirSync(OUT, { recursive: true });
  return Object.entries(config.functions).map(([key, fn]) => {
    const outfile = join(OUT, `${key}.js`);
    buildSync({
      entryPoints: [join(PROJECT_ROOT, `${fn.module}.ts`)],
      outfile,
      bundle: true,
      minify: true,
      keepNames: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      logLevel: 'error',
    });
    const bytes = statSync(outfile).size;
    const gzip = gzipSync(readFileSync(outfile)).length;
    // Module init: a fresh node process requiring the bundle (the SDK resolved from
    // node_modules, as the Lambda runtime resolves it from its own), median of RUNS. The lower
    // bound is the same process requiring only the SDK client packages the bundle loaded.
    const env = {
      ...process.env,
      NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
      ...fn.environment,
      AWS_REGION: 'ap-northeast-2',
    };
    const measure = (code: string) =>
      JSON.parse(execFileSync(process.execPath, ['-e', code], { env }).toString()) as InitSample;
    const init = Array.from({ length: RUNS }, () => measure(initProbe(`require(${JSON.stringify(outfile)})`)));
    const sdk = init[0]?.sdk ?? [];
    const floor = Array.from({ length: RUNS }, () =>
      measure(initProbe(sdk.map((m) => `require(${JSON.stringify(m)})`).join(';') || '0')),
    );
    return {
      key,
      bytes,
      gzip,
      initMs: median(init.map((i) => i.ms)),
      rssMiB: median(init.map((i) => i.rss)) / 2 ** 20,
      sdk,
      sdkMs: median(floor.map((i) => i.ms)),
    };
  });
}

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
  const fns = bundles();
  const runs = await onboarding();
  const net = await networkBench(RUNS);
  const sweeps = await sweepBench([100, 1000, 10000], RUNS);
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
    '## Functions',
    '',
    'Bundled as serverless.yml packages them (esbuild, minified, `@aws-sdk/*` from the Lambda runtime).',
    'Module init is `require()` of the bundle in a fresh Node process. Its lower bound is the time to',
    'load just the AWS SDK client packages that init loaded (the runtime must load those whatever we do);',
    "the difference is this project's own code and libraries (zod, Powertools, middy, yaml).",
    '',
    '| function | bundle | gzip | module init | lower bound: its SDK clients alone | RSS after init |',
    '|---|---:|---:|---:|---:|---:|',
    ...fns.map(
      (f) =>
        `| ${f.key} | ${kb(f.bytes)} | ${kb(f.gzip)} | ${f.initMs.toFixed(0)} ms | ${f.sdkMs.toFixed(0)} ms (${f.sdk.map((m) => m.replace('@aws-sdk/client-', '')).join(', ') || 'none'}) | ${f.rssMiB.toFixed(0)} MiB |`,
    ),
    '',
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
  mkdirSync(join(PROJECT_ROOT, 'bench'), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, 'bench', 'report.md'), lines.join('\n'));
  console.log(lines.join('\n'));
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
