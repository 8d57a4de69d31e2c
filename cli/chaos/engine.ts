import { readFileSync } from 'node:fs';
import { logger } from '#lib/logger';
import type { SandboxCall, SandboxEstate } from '#lib/sandbox/estate';
import type { OutboxMessage } from '#lib/sandbox/services/sns';
import type { LocalRuntime } from '../local-runtime';
import { runPrepared } from '../local-run';
import type { LambdaFault } from '../run-control';
import type { RunResult } from '../runner';
import { loadServerlessConfig } from '../serverless-config';
import type { LocalWorkflow } from '../workflows/types';
import { type CallProfile, describePlan, type FaultPlan, planFaults, profileOf, type Random, random } from './faults';

/**
 * The chaos tier: runs a workflow's real state machine on a fresh sandbox estate again and
 * again, each run with a seeded random fault plan, and checks after each run the invariants an
 * operator relies on. A run's seed is the tier's seed plus its index, so any violation is
 * reproduced with `--seed <its seed> --runs 1`.
 */

/** A run set up and ready, before its faults are injected. */
export interface Arranged {
  local: LocalRuntime & { estate: SandboxEstate };
  workflow: LocalWorkflow;
  input: unknown;
  /** What the workflow's checks need to know of the set-up (the request, the desired state...). */
  facts: Record<string, unknown>;
  /** Which kind of run it is (0 to the workflow's variants - 1): its faults target its calls. */
  variant: number;
}

/** What a run left, for the invariants to read. */
export interface Outcome {
  arranged: Arranged;
  plan: FaultPlan;
  result: RunResult;
  estate: SandboxEstate;
  /** SNS messages the run sent. */
  alerts: OutboxMessage[];
  /** Calls the run made (the workflow's, not the set-up's). */
  calls: SandboxCall[];
  /** What the functions logged. */
  logs: string;
}

export interface ChaosWorkflow {
  name: string;
  /** How many kinds of run it arranges (the scenarios a server follows, the modes...). */
  variants: number;
  /** A fresh estate and input: the variant drawn from `r`, or the one given. */
  arrange(r: Random, home: string, variant?: number): Promise<Arranged>;
  /** The invariants that broke, each a sentence; none: the run passed. */
  check(outcome: Outcome): Promise<string[]>;
}

export interface Violation {
  seed: number;
  plan: string[];
  invariant: string;
  /** The run's end: its status, error, and the states it went through last. */
  run: { status: string; error?: string; last: string[] };
}

export interface ChaosSummary {
  workflow: string;
  seed: number;
  runs: number;
  passed: number;
  violations: Violation[];
  /** How the runs ended, by status and error. */
  endings: Record<string, number>;
  /** Faults planned, and those that hit a call or an invocation (a run may end before one's turn). */
  faults: number;
  faultsHit: number;
  wallMs: number;
}

/** A run must end within this much wall time; the sandbox never sleeps, so one that does not is stuck. */
const RUN_TIMEOUT_MS = 60_000;

/** The Lambda Tasks of a workflow's ASL (the states a Lambda fault can hit). */
function lambdaTasks(workflow: string): Set<string> {
  const config = loadServerlessConfig('local');
  const key = workflow.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  const file = config.stateMachines[key]?.file;
  if (!file) throw new Error(`No workflow '${workflow}'.`);
  const names = new Set<string>();
  const walk = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task' && JSON.stringify(state.Resource).includes('Fn::GetAtt')) names.add(name);
      for (const branch of (state.Branches as Array<{ States: typeof states }>) ?? []) walk(branch.States);
      const inner = (state.ItemProcessor ?? state.Iterator) as { States: typeof states } | undefined;
      if (inner) walk(inner.States);
    }
  };
  walk((JSON.parse(readFileSync(file, 'utf8')) as { States: Record<string, Record<string, unknown>> }).States);
  return names;
}

/** Runs `fn` with everything the functions log captured (at DEBUG, so no log line escapes the check), never printed. */
export async function capturing<T>(fn: () => Promise<T>): Promise<{ value: T; logs: string }> {
  const captured: string[] = [];
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const capture = ((chunk: unknown) => {
    captured.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const level = logger.getLevelName();
  process.stdout.write = capture;
  process.stderr.write = capture;
  logger.setLogLevel('DEBUG');
  try {
    return { value: await fn(), logs: captured.join('') };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    logger.setLogLevel(level);
  }
}

/** Runs a prepared workflow with its logs captured, within RUN_TIMEOUT_MS. */
async function runCaptured(arranged: Arranged, plan: FaultPlan): Promise<{ result: RunResult; logs: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const { value, logs } = await capturing(() =>
      Promise.race([
        runPrepared(arranged.workflow, arranged.local, arranged.input, { lambdaFaults: plan.lambdaFaults }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the run did not end within ${RUN_TIMEOUT_MS / 1000} s`)),
            RUN_TIMEOUT_MS,
          );
        }),
      ]),
    );
    return { result: value, logs };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A clean run of each variant, to learn which calls each Task makes in it (the faults' targets):
 * the cleanup of a server that never registers is as much a target as the happy path, and a run
 * is faulted only on calls its own kind of run makes.
 */
async function calibrate(workflow: ChaosWorkflow, home: string): Promise<CallProfile[]> {
  const tasks = lambdaTasks(workflow.name);
  const profiles: CallProfile[] = [];
  for (let variant = 0; variant < workflow.variants; variant += 1) {
    const arranged = await workflow.arrange(random(variant), home, variant);
    const first = arranged.local.estate.calls.length;
    const { result } = await runCaptured(arranged, { faults: [], lambdaFaults: [] });
    profiles.push(
      profileOf(
        arranged.local.estate.calls.slice(first),
        [...new Set(result.visited)].filter((s) => tasks.has(s)),
      ),
    );
  }
  return profiles;
}

export async function runChaos(
  workflow: ChaosWorkflow,
  options: { runs: number; seed: number; home: string; onRun?: (index: number, violations: Violation[]) => void },
): Promise<ChaosSummary> {
  const started = Date.now();
  const profiles = await calibrate(workflow, options.home);
  const summary: ChaosSummary = {
    workflow: workflow.name,
    seed: options.seed,
    runs: options.runs,
    passed: 0,
    violations: [],
    endings: {},
    faults: 0,
    faultsHit: 0,
    wallMs: 0,
  };
  for (let i = 0; i < options.runs; i += 1) {
    const seed = options.seed + i;
    const r = random(seed);
    const arranged = await workflow.arrange(r, options.home);
    const profile = profiles[arranged.variant];
    if (!profile)
      throw new Error(`${workflow.name} arranged variant ${arranged.variant}, not one of ${profiles.length}`);
    const plan = planFaults(r, profile);
    summary.faults += plan.faults.length + new Set(plan.lambdaFaults.map((f) => f.state)).size;
    const estate = arranged.local.estate;
    for (const fault of plan.faults) estate.injectFault(fault);
    const firstCall = estate.calls.length;
    const firstAlert = estate.outbox.length;
    const found: Violation[] = [];
    const violation = (invariant: string, result?: RunResult) =>
      found.push({
        seed,
        plan: describePlan(plan),
        invariant,
        run: {
          status: result?.status ?? 'DID NOT END',
          error: result?.error?.name,
          last: result?.visited.slice(-6) ?? [],
        },
      });
    try {
      const { result, logs } = await runCaptured(arranged, plan);
      summary.faultsHit += faultsHit(estate, plan, result);
      estate.clearFaults();
      const ending = `${result.status}${result.error ? ` ${result.error.name}` : ''}`;
      summary.endings[ending] = (summary.endings[ending] ?? 0) + 1;
      const outcome: Outcome = {
        arranged,
        plan,
        result,
        estate,
        alerts: estate.outbox.slice(firstAlert),
        calls: estate.calls.slice(firstCall),
        logs,
      };
      const { value: broken } = await capturing(() => workflow.check(outcome));
      for (const sentence of broken) violation(sentence, result);
    } catch (error) {
      violation(`every execution ends: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (found.length === 0) summary.passed += 1;
    summary.violations.push(...found);
    options.onRun?.(i, found);
  }
  summary.wallMs = Date.now() - started;
  return summary;
}

/** Whether a planned Lambda fault hit: its Task reached the faulted invocation. */
const lambdaFaultHit = (fault: LambdaFault, result: RunResult) =>
  (result.invocations[fault.state] ?? 0) >= fault.attempt;

/** The faults of a plan that hit: a call reached its turn, or a Task its faulted invocation. */
function faultsHit(estate: SandboxEstate, plan: FaultPlan, result: RunResult): number {
  const calls = estate.state.faults.filter((f) => f.seen >= (f.nth ?? 1)).length;
  const states = new Set(plan.lambdaFaults.filter((f) => lambdaFaultHit(f, result)).map((f) => f.state));
  return calls + states.size;
}

/** Whether the run store refused a write that this Task's Lambda made. */
export const storeRefused = (outcome: Outcome, task: string) =>
  outcome.calls.some((c) => c.task === task && c.service === 's3' && c.command === 'PutObject' && c.outcome !== 'ok');

/** How many answers of this Task's Lambda were lost after it had done its work. */
export const answersLost = (outcome: Outcome, task: string) =>
  outcome.plan.lambdaFaults.filter((f) => f.state === task && f.afterWork && lambdaFaultHit(f, outcome.result)).length;

/** Invariants every workflow shares: the run ended as AWS ends it, with its Catch run, and no sandbox gap. */
export function commonInvariants(outcome: Outcome): string[] {
  const broken: string[] = [];
  const error = outcome.result.error?.name;
  if (error === 'States.Runtime' || error === 'States.DataLimitExceeded') {
    broken.push(`every execution ends with its own error and alert, not ${error} (no Catch runs for it)`);
  }
  const gap = outcome.calls.find((c) => c.outcome === 'SandboxNotImplementedError');
  if (gap) broken.push(`the sandbox implements every call the workflow makes (not ${gap.service}:${gap.command})`);
  return broken;
}

/** How many times each message went out, by its subject and text. */
export function textCounts(alerts: OutboxMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of alerts) counts.set(`${a.subject}\n${a.message}`, (counts.get(`${a.subject}\n${a.message}`) ?? 0) + 1);
  return counts;
}

/** Alerts as their text: subject and message, for "is it named" checks. */
export const alertText = (alerts: OutboxMessage[]) =>
  alerts.map((a) => `${a.subject ?? ''}\n${a.message}`).join('\n\n');

/**
 * Outcome messages: distinct ones, and whether one went out twice. SNS may deliver one twice only
 * when it lost the answer to a publish (AWS published, the caller heard nothing and sent again).
 */
export function messageCounts(outcome: Outcome): { distinct: number; repeated: string[]; ambiguous: boolean } {
  const seen = textCounts(outcome.alerts);
  const repeated = [...seen.entries()]
    .filter(([, n]) => n > 1)
    .map(([text, n]) => `${text.split('\n')[0]} (${n} times)`);
  const ambiguous = outcome.plan.faults.some((f) => f.on === 'sns:Publish' && f.effect === 'lost-response');
  return { distinct: seen.size, repeated, ambiguous };
}
