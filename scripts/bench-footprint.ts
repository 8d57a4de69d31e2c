/**
 * The footprint benchmark (part of `npm run bench`; `npm run bench -- --only footprint` runs it
 * alone): the tool's own monthly AWS bill at 10, 100 and 1,000 nodes. Each activity runs once on
 * a fresh sandbox (real ASL, real handlers) and is measured: state transitions, Lambda
 * invocations by function, AWS calls by service, the bytes the handlers log, S3 writes and
 * their bytes, SNS publishes, Cost Explorer requests. lib/footprint.ts scales them by the
 * operating model and prices them from bench/prices.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allStates, getAttOf, type StateNode } from '#cli/asl';
import { prepareAndRun, runPrepared } from '#cli/local-run';
import { sandboxLocalRuntime } from '#cli/local-runtime';
import { type RunEvent, type RunResult, runWorkflow } from '#cli/runner';
import { PROJECT_ROOT } from '#cli/serverless-config';
import { offboardNode } from '#cli/workflows/offboard-node';
import { onboardNode } from '#cli/workflows/onboard-node';
import { reconcileNetwork } from '#cli/workflows/reconcile-network';
import type { LocalWorkflow } from '#cli/workflows/types';
import {
  DEFAULT_MODEL,
  type FixedItems,
  fixedBill,
  type Measured,
  monthlyUsage,
  NO_USAGE,
  type OperatingModel,
  parsePrices,
  type PricesFile,
  totalUsd,
  type Usage,
  variableBill,
} from '#lib/footprint';
import { logger } from '#lib/logger';
import { SandboxEstate, sandboxRuntime, withServices } from '#lib/sandbox/index';
import type { SandboxCall } from '#lib/sandbox/estate';
import { EKS_SERVICE } from '#lib/sandbox/services/ce';
import { putDesiredState, estateOf as sweepEstate } from './bench-sweep';

/**
 * What a Lambda's billed duration is made of beyond the sandbox's own time: each AWS, Kubernetes
 * or probe call it makes waits on the network, which the sandbox answers at once. 40 ms a call is
 * a round trip to a regional endpoint with SigV4 and TLS reuse; every call is counted as if made
 * one after another, an upper bound for the sweep's concurrent probes.
 */
const CALL_MS = 40;
/**
 * Lambda's own lines per invocation (START, END, REPORT with the X-Ray trace id), about 400
 * bytes in the text format (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html).
 */
const PLATFORM_LOG_BYTES = 400;
/** A status GET's handler: one read of the execution (DescribeExecution), as modelled, not run. */
const STATUS_POLL_CALLS = 1;
export const FOOTPRINT_NODES = [10, 100, 1000];

interface Config {
  memoryMb: Record<string, number>;
}

/** Each function's configured memory (provider.memorySize unless the function sets its own). */
function loadConfig(): Config {
  const { parse } = require('yaml') as typeof import('yaml');
  const yml = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    provider: { memorySize?: number };
    functions: Record<string, { memorySize?: number }>;
  };
  const fallback = yml.provider.memorySize ?? 1024;
  const memoryMb = Object.fromEntries(
    Object.entries(yml.functions).map(([key, fn]) => [
      key,
      typeof fn.memorySize === 'number' ? fn.memorySize : fallback,
    ]),
  );
  return { memoryMb };
}

/** Which function each Lambda Task state of a workflow runs. */
function functionsOf(workflow: string): Record<string, string> {
  const asl = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'statemachines', `${workflow}.asl.json`), 'utf8'),
  ) as StateNode;
  const map: Record<string, string> = {};
  for (const { name, state } of allStates(asl)) {
    const att = getAttOf(state.Resource);
    if (Array.isArray(att) && typeof att[0] === 'string') map[name] = att[0];
  }
  return map;
}

/** Times each Task state's runs from the runner's events (first in, first out per state). */
function taskTimer() {
  const open = new Map<string, number[]>();
  const ms = new Map<string, number>();
  return {
    onEvent(event: RunEvent) {
      if (event.type === 'entered') open.set(event.state, [...(open.get(event.state) ?? []), event.at]);
      else if (event.type === 'exited' || event.type === 'failed') {
        const started = open.get(event.state)?.shift();
        if (started !== undefined) ms.set(event.state, (ms.get(event.state) ?? 0) + Math.max(1, event.at - started));
      }
    },
    ms,
  };
}

/** The custom metric series (namespace, name, dimension values) seen in EMF lines of every run. */
const metricSeries = new Set<string>();

/** Notes the metric series of an EMF line (CloudWatch embedded metric format: `_aws.CloudWatchMetrics`). */
function noteMetrics(line: string, series = metricSeries) {
  if (!line.includes('"_aws"')) return;
  try {
    const emf = JSON.parse(line) as Record<string, unknown> & {
      _aws?: {
        CloudWatchMetrics?: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
      };
    };
    for (const d of emf._aws?.CloudWatchMetrics ?? []) {
      for (const set of d.Dimensions.length ? d.Dimensions : [[]]) {
        const dims = set.map((k) => `${k}=${String(emf[k])}`).join(',');
        for (const m of d.Metrics) series.add(`${d.Namespace}/${m.Name}{${dims}}`);
      }
    }
  } catch {
    // not JSON: a plain log line
  }
}

/**
 * Counts what stdout receives (the handlers' Powertools logs at INFO, and any EMF metrics) while
 * `run` runs, and keeps it off the screen.
 */
async function capturingLogs<T>(run: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  const write = process.stdout.write.bind(process.stdout);
  const level = logger.getLevelName();
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    bytes += Buffer.byteLength(text);
    for (const line of text.split('\n')) noteMetrics(line);
    return true;
  }) as typeof process.stdout.write;
  logger.setLogLevel('INFO');
  try {
    return { value: await run(), bytes };
  } finally {
    process.stdout.write = write;
    logger.setLogLevel(level);
  }
}

/**
 * Notes the metric series a run and its child runs emitted: a local run records its handlers'
 * EMF documents with the run (cli/runner.ts), not on stdout.
 */
export function noteRunMetrics(result: RunResult, series = metricSeries) {
  for (const run of executionsOf(result)) {
    for (const document of run.metrics ?? []) noteMetrics(JSON.stringify(document), series);
  }
}

const executionsOf = (r: RunResult): RunResult[] => [r, ...(r.children ?? []).flatMap(executionsOf)];

/**
 * One execution's usage from its result, the calls the estate answered during it and the log
 * bytes, plus `api` API requests (each one Lambda invocation at the API functions' memory, whose
 * calls are those no Task made).
 */
function usageOf(
  workflow: string,
  result: RunResult,
  calls: SandboxCall[],
  taskMs: Map<string, number>,
  logBytes: number,
  config: Config,
  api: number,
): Usage {
  const fns = functionsOf(workflow);
  const gb = (key: string | undefined) => (config.memoryMb[key ?? ''] ?? 256) / 1024;
  let requests = api;
  let gbSeconds = 0;
  for (const [state, count] of Object.entries(result.invocations)) {
    const key = fns[state];
    if (!key) continue;
    requests += count;
    const made = calls.filter((c) => c.principal === key).length;
    gbSeconds += (gb(key) * ((taskMs.get(state) ?? count) + made * CALL_MS)) / 1000;
  }
  const apiCalls = calls.filter((c) => !c.principal).length;
  if (api) gbSeconds += (gb('submitOnboarding') * (api + apiCalls * CALL_MS)) / 1000;
  const count = (service: string, commands: RegExp) =>
    calls.filter((c) => c.service === service && commands.test(c.command)).length;
  const s3Bytes = calls
    .filter((c) => c.service === 's3' && c.command === 'PutObject')
    .reduce((sum, c) => sum + Buffer.byteLength(String((c.input as { Body?: unknown } | undefined)?.Body ?? '')), 0);
  const executions = executionsOf(result).length;
  noteRunMetrics(result);
  return {
    transitions: executionsOf(result).reduce(
      (n, r) => n + r.history.filter((e) => e.type === 'StateEntered').length,
      0,
    ),
    lambdaRequests: requests,
    lambdaGbSeconds: gbSeconds,
    apiRequests: api,
    snsPublishes: count('sns', /^Publish$/),
    snsEmails: 0,
    s3Writes: count('s3', /^(Put|Copy|List|CreateMultipart|UploadPart|CompleteMultipart)/),
    s3Reads: count('s3', /^(Get|Head)/),
    s3Bytes,
    ceRequests: calls.filter((c) => c.service === 'ce' || c.service === 'costexplorer').length,
    logBytes: logBytes + requests * PLATFORM_LOG_BYTES,
    traces: executions + api,
  };
}

type Local = ReturnType<typeof sandboxLocalRuntime> & { estate: SandboxEstate };

/** A fresh sandbox from the seed, its simulated servers joining as scenario `joins` has them. */
function freshSandbox(): Local {
  const estate = withServices(SandboxEstate.inMemory());
  estate.state.scenario = 'joins';
  return { ...sandboxLocalRuntime(estate, join(PROJECT_ROOT, '.hybridops', 'bench')), estate };
}

/** Runs a workflow once on `local`, as `POST`ed (its input checked first), and measures it. */
async function measure(workflow: LocalWorkflow, body: string, local: Local, config: Config, api: number) {
  const first = local.estate.calls.length;
  const timer = taskTimer();
  const { value: result, bytes } = await capturingLogs(async () => {
    const prepared = await workflow.prepare(body, local);
    if (!prepared.ok) throw new Error(`input rejected: ${prepared.problems.join('; ')}`);
    return runPrepared(workflow, local, prepared.input, { onEvent: timer.onEvent });
  });
  if (result.status !== 'SUCCEEDED') throw new Error(`${workflow.name} failed: ${JSON.stringify(result.error)}`);
  return usageOf(workflow.name, result, local.estate.calls.slice(first), timer.ms, bytes, config, api);
}

/** The reconcile as the schedule starts it (plan mode), after one apply so the estate is in step. */
async function measureReconcile(config: Config): Promise<Usage> {
  const local = freshSandbox();
  const estate = local.estate;
  await prepareAndRun(reconcileNetwork, local, JSON.stringify({ mode: 'apply', trigger: 'bench' }));
  const first = estate.calls.length;
  const timer = taskTimer();
  const { value: result, bytes } = await capturingLogs(() =>
    runPrepared(reconcileNetwork, local, { mode: 'plan', trigger: 'schedule' }, { onEvent: timer.onEvent }),
  );
  if (result.status !== 'SUCCEEDED') throw new Error(`reconcile-network failed: ${JSON.stringify(result.error)}`);
  return usageOf('reconcile-network', result, estate.calls.slice(first), timer.ms, bytes, config, 0);
}

/** One sweep's usage and its Cost Explorer requests by command, for the report. */
interface Night {
  usage: Usage;
  ce: Record<string, number>;
}

/**
 * The nightly sweep over `nodes` nodes (the sweep bench's estate: 2% NotReady, 1% unsupported OS),
 * on each of `days` of this month by the sandbox clock, one after another on the same estate, so
 * a night finds what the one before kept in the run store (the month's Cost Explorer names:
 * lib/sweep/cost-names.ts). `pinned`: with the stage's sweep.costService and
 * sweep.hybridUsageTypes set, so the sweep asks Cost Explorer no GetDimensionValues.
 */
async function measureSweep(nodes: number, config: Config, days: number[], pinned = false): Promise<Night[]> {
  const { estate, settings, desired } = sweepEstate(nodes);
  if (pinned && desired.sweep) {
    desired.sweep.costService = EKS_SERVICE;
    desired.sweep.hybridUsageTypes = [estate.state.seed.costExplorer?.hybridUsageType ?? 'APN2-HybridNodes-vCPU-Hours'];
  }
  const runtime = sandboxRuntime(estate, settings);
  await putDesiredState(runtime, desired);
  const nights: Night[] = [];
  for (const day of days) {
    const today = new Date();
    estate.state.clockOffsetMs = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), day, 12) - today.getTime();
    const first = estate.calls.length;
    const timer = taskTimer();
    const { value: result, bytes } = await capturingLogs(() =>
      runWorkflow({
        workflow: 'nightly-sweep',
        input: { trigger: 'schedule' },
        runtime,
        estate,
        alertTopicArn: settings.alertTopicArn ?? '',
        onEvent: timer.onEvent,
      }),
    );
    if (result.status !== 'SUCCEEDED') throw new Error(`sweep of ${nodes} failed: ${JSON.stringify(result.error)}`);
    const calls = estate.calls.slice(first);
    const ce: Record<string, number> = {};
    for (const c of calls.filter((c) => c.service === 'ce')) ce[c.command] = (ce[c.command] ?? 0) + 1;
    nights.push({ usage: usageOf('nightly-sweep', result, calls, timer.ms, bytes, config, 0), ce });
  }
  return nights;
}

type CfnResource = { Type?: string; Properties?: { Metrics?: Array<{ MetricStat?: unknown }> } };
export type ResourcesPart = { Resources?: Record<string, CfnResource> } | undefined;

/**
 * The alarms and dashboards among CloudFormation resources. An alarm bills per metric it watches
 * ("per alarm metric": https://aws.amazon.com/cloudwatch/pricing/), so a metric-math alarm counts
 * each MetricStat in its Metrics.
 */
export function cloudWatchItems(parts: ResourcesPart[]): Omit<FixedItems, 'customMetrics'> {
  const resources = parts.flatMap((p) => Object.values(p?.Resources ?? {}));
  const alarms = resources
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .reduce((n, r) => n + Math.max(1, (r.Properties?.Metrics ?? []).filter((m) => m.MetricStat).length), 0);
  const dashboards = resources.filter((r) => r.Type === 'AWS::CloudWatch::Dashboard').length;
  return { alarms, dashboards };
}

/**
 * The stack's resources as serverless.yml assembles them: its inline `resources` blocks and each
 * `${file(./resources/<name>.js)}` module, called as the framework calls it, with the stage
 * `bench` and the params' defaults. Alarms made in loops (per state machine, per function group) are all counted.
 */
export async function stackResources(): Promise<ResourcesPart[]> {
  const { parse } = require('yaml') as typeof import('yaml');
  const yml = parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    params?: { default?: Record<string, unknown> };
    resources?: unknown;
  };
  const params = yml.params?.default ?? {};
  // `self:<path>` is serverless.yml itself (the Lambda alarms are one per function group of `self:functions`).
  const self = (path: string) =>
    path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], yml) ?? '';
  const resolveVariable = async (name: string) =>
    name === 'sls:stage'
      ? 'bench'
      : name.startsWith('param:')
        ? (params[name.slice(6)] ?? '')
        : name.startsWith('self:')
          ? self(name.slice(5))
          : '';
  const entries = Array.isArray(yml.resources) ? yml.resources : [yml.resources];
  const parts: ResourcesPart[] = [];
  for (const entry of entries) {
    const file = typeof entry === 'string' ? /^\$\{file\(\.\/(resources\/[\w-]+\.js)\)\}$/.exec(entry)?.[1] : undefined;
    if (file) {
      const make = require(join(PROJECT_ROOT, file)) as (ctx: { resolveVariable: typeof resolveVariable }) => unknown;
      parts.push((await make({ resolveVariable })) as ResourcesPart);
    } else if (entry && typeof entry === 'object') parts.push(entry as ResourcesPart);
  }
  return parts;
}

/** CloudWatch's fixed items: the stack's alarms and dashboards, and the custom metric series the measured runs emitted as EMF. */
async function fixedItems(): Promise<FixedItems> {
  return { customMetrics: metricSeries.size, ...cloudWatchItems(await stackResources()) };
}

export interface Footprint {
  measured: Measured;
  /** The same, with the sweep's Cost Explorer names pinned. */
  pinned: Measured;
  model: OperatingModel;
  prices: PricesFile;
  fixed: FixedItems;
  /** Cost Explorer requests by command: the 1st of the month, a night with the names kept, a first night ever mid-month. */
  ceNights: { firstOfMonth: Record<string, number>; cached: Record<string, number>; cold: Record<string, number> };
}

/** The nights measured: the 1st of the month (the names discovered again), then the 15th (kept). */
const FIRST_OF_MONTH = 1;
const MID_MONTH = 15;

export async function footprintBench(): Promise<Footprint> {
  const config = loadConfig();
  const prices = parsePrices(JSON.parse(readFileSync(join(PROJECT_ROOT, 'bench', 'prices.json'), 'utf8')));
  // POST /nodes and the team's GET of the NodeConfig; DELETE /nodes/{node}.
  // The same node joins, then leaves.
  const local = freshSandbox();
  const onboarding = await measure(onboardNode, readEvent('onboard-node'), local, config, 2);
  const offboarding = await measure(offboardNode, readEvent('offboard-node'), local, config, 1);
  const statusPoll: Usage = {
    ...NO_USAGE,
    apiRequests: 1,
    lambdaRequests: 1,
    lambdaGbSeconds: ((config.memoryMb.getOnboarding ?? 256) / 1024) * ((1 + STATUS_POLL_CALLS * CALL_MS) / 1000),
    logBytes: PLATFORM_LOG_BYTES,
    traces: 1,
  };
  const reconcile = await measureReconcile(config);
  const sizes = { sweep: {}, sweepFirstNight: {} } as Required<Pick<Measured, 'sweep' | 'sweepFirstNight'>>;
  const pinnedSizes = { sweep: {}, sweepFirstNight: {} } as typeof sizes;
  let ceNights: Footprint['ceNights'] = { firstOfMonth: {}, cached: {}, cold: {} };
  for (const nodes of FOOTPRINT_NODES) {
    const [first, cached] = await measureSweep(nodes, config, [FIRST_OF_MONTH, MID_MONTH]);
    const [pinnedFirst, pinnedCached] = await measureSweep(nodes, config, [FIRST_OF_MONTH, MID_MONTH], true);
    if (!first || !cached || !pinnedFirst || !pinnedCached) throw new Error('a sweep night was not measured');
    sizes.sweepFirstNight[nodes] = first.usage;
    sizes.sweep[nodes] = cached.usage;
    pinnedSizes.sweepFirstNight[nodes] = pinnedFirst.usage;
    pinnedSizes.sweep[nodes] = pinnedCached.usage;
    ceNights = { ...ceNights, firstOfMonth: first.ce, cached: cached.ce };
  }
  // The first night ever (no names kept yet), mid-month: its requests do not depend on the nodes.
  const [cold] = await measureSweep(FOOTPRINT_NODES[0] ?? 10, config, [MID_MONTH]);
  ceNights.cold = cold?.ce ?? {};
  const measured = { onboarding, offboarding, statusPoll, reconcile, ...sizes };
  return {
    measured,
    pinned: { ...measured, ...pinnedSizes },
    model: DEFAULT_MODEL,
    prices,
    fixed: await fixedItems(),
    ceNights,
  };
}

const readEvent = (name: string) => readFileSync(join(PROJECT_ROOT, 'events', `${name}.json`), 'utf8');

const money = (usd: number) => (usd < 0.01 && usd > 0 ? `${usd.toFixed(4)}` : usd.toFixed(2));
const qty = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : Number(n.toPrecision(3)).toString());

/** The bench report's section. */
export function footprintReport(f: Footprint): string[] {
  const { measured, model, prices } = f;
  const billAt = (m: Measured, n: number) => variableBill(monthlyUsage(m, model, n), model, prices);
  const bills = FOOTPRINT_NODES.map((n) => billAt(measured, n));
  const pinnedTotals = FOOTPRINT_NODES.map((n) => totalUsd(billAt(f.pinned, n)));
  const night = (nights: Record<number, Usage> | undefined) =>
    FOOTPRINT_NODES.map((n) => `${nights?.[n]?.ceRequests ?? 0} at ${n.toLocaleString('en-US')} nodes`).join(', ');
  const commands = (ce: Record<string, number>) =>
    Object.entries(ce)
      .map(([command, count]) => `${count} ${command}`)
      .join(', ') || 'none';
  const requests = (ce: Record<string, number>) => Object.values(ce).reduce((a, b) => a + b, 0);
  const monthCe = monthlyUsage(measured, model, FOOTPRINT_NODES[0] ?? 10).ceRequests;
  const fixed = fixedBill(f.fixed, prices);
  const items = bills[0]?.map((l) => l.item) ?? [];
  const per = (u: Usage) =>
    `${u.transitions} transitions, ${u.lambdaRequests} Lambda invocations (${u.lambdaGbSeconds.toFixed(2)} GB-s), ${u.apiRequests} API requests, ${u.snsPublishes} SNS, S3 ${u.s3Writes} PUT/LIST + ${u.s3Reads} GET (${(u.s3Bytes / 1024).toFixed(1)} KiB), ${u.ceRequests} Cost Explorer, ${(u.logBytes / 1024).toFixed(1)} KiB logs`;
  return [
    "## The tool's own bill (footprint)",
    '',
    `Monthly AWS cost of eks-hybrid-ops itself, from usage measured on the sandbox (real ASL and handlers, one run`,
    `of each activity) and the list prices in bench/prices.json (checked ${prices.checked}; Region ${prices.region} where`,
    'its price was found, else the Region the file names for each). No free tiers are deducted, so these are upper',
    "bounds; hybrid nodes' own vCPU-hours are not the tool's cost and are not here.",
    '',
    'Operating model (lib/footprint.ts DEFAULT_MODEL):',
    '',
    `- ${model.onboardingsPerNodePerMonth} onboardings and ${model.offboardingsPerNodePerMonth} offboardings per node per month, each followed by ${model.statusPollsPerRequest} status polls (GET) and, for an onboarding, the team's NodeConfig fetch;`,
    `- reconcile-network ${model.reconcilesPerHour} run(s) an hour (the schedule, plan mode), independent of the nodes;`,
    `- nightly-sweep once a night (${model.sweepsPerMonth.toFixed(1)} a month), measured at each size below on the 1st of the month and then on the 15th by the sandbox clock (it grows with the nodes); the month has one night like the 1st and the rest like the 15th;`,
    `- ${model.emailSubscribers} email subscriber of the alert topic; S3 objects and logs kept ${model.s3RetentionDays} and ${model.logRetentionDays} days.`,
    `- Lambda duration: the sandbox's own time per Task plus ${CALL_MS} ms per AWS, Kubernetes or probe call the function makes, at the function's memory from serverless.yml (arm64); logs: what the handlers log at INFO plus ${PLATFORM_LOG_BYTES} bytes of Lambda's own lines per invocation.`,
    '',
    'Measured per run:',
    '',
    `- onboarding (scenario joins): ${per(measured.onboarding)}`,
    `- offboarding: ${per(measured.offboarding)}`,
    `- status poll (modelled, ${STATUS_POLL_CALLS} call): ${per(measured.statusPoll)}`,
    `- reconcile (plan, in step): ${per(measured.reconcile)}`,
    ...FOOTPRINT_NODES.map(
      (n) =>
        `- nightly sweep, ${n.toLocaleString('en-US')} nodes, a night with the month's Cost Explorer names kept: ${per(measured.sweep[n] ?? NO_USAGE)}`,
    ),
    ...FOOTPRINT_NODES.map(
      (n) =>
        `- nightly sweep, ${n.toLocaleString('en-US')} nodes, the 1st of the month: ${per(measured.sweepFirstNight?.[n] ?? NO_USAGE)}`,
    ),
    '',
    `| item | ${FOOTPRINT_NODES.map((n) => `${n.toLocaleString('en-US')} nodes: quantity | USD`).join(' | ')} |`,
    `|---|${FOOTPRINT_NODES.map(() => '---:|---:').join('|')}|`,
    ...items.map(
      (item, i) =>
        `| ${item} | ${bills.map((b) => `${qty(b[i]?.quantity ?? 0)} | ${money(b[i]?.usd ?? 0)}`).join(' | ')} |`,
    ),
    `| **total, outside CloudWatch's fixed items** | ${bills.map((b) => ` | **${money(totalUsd(b))}**`).join(' | ')} |`,
    `| total with sweep.costService and sweep.hybridUsageTypes pinned | ${pinnedTotals.map((t) => ` | ${money(t)}`).join(' | ')} |`,
    '',
    "CloudWatch's fixed items (the same at any size; the first 10 metrics, 10 alarms and 3 dashboards are free):",
    '',
    '| item | count | USD a month |',
    '|---|---:|---:|',
    ...fixed.map((l) => `| ${l.item} | ${l.quantity} | ${money(l.usd)} |`),
    '',
    `Cost Explorer requests a night (USD ${prices.prices.costExplorerRequest.usd} each; the sweep is their only caller): ${night(measured.sweep)}`,
    `on a night with the month's names kept in the run store (${commands(f.ceNights.cached)}); on the 1st of the month, which`,
    `discovers the names again and asks no month to date: ${night(measured.sweepFirstNight)} (${commands(f.ceNights.firstOfMonth)}); on a first night`,
    `ever, mid-month: ${requests(f.ceNights.cold)} (${commands(f.ceNights.cold)}). A month: ${qty(monthCe)} requests. With the names pinned in`,
    `config/<stage>.yaml: ${night(f.pinned.sweep)}, and ${night(f.pinned.sweepFirstNight)} on the 1st. They do not grow with the nodes: the request groups by usage type, not by node.`,
    '',
  ];
}

/** `report` with the `## ` section that `section` starts with replaced by it, or added at the end. */
export function replaceSection(report: string, section: string[]): string {
  const lines = report.split('\n');
  const start = lines.indexOf(section[0] ?? '');
  if (start < 0) return [...report.replace(/\n*$/, '').split('\n'), '', ...section].join('\n');
  const after = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return [...lines.slice(0, start), ...section, ...(after < 0 ? [] : lines.slice(after))].join('\n');
}
