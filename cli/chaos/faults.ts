import { type FaultSpec, NETWORK_ERRORS } from '#lib/sandbox/faults';
import type { SandboxCall } from '#lib/sandbox/estate';
import type { LambdaFault } from '../run-control';

/**
 * Seeded random fault plans for the chaos tier: 1 to 3 faults, each on a call the workflow really
 * makes (learnt from a clean run of the same workflow), shaped as AWS and the network fail:
 * throttling, an outage, a refusal, a reset connection, a timeout, a lost answer, sometimes for
 * good; and sometimes a Task's Lambda crashing or timing out, before or after its work.
 */

/** A small, fast, seedable generator (mulberry32): the same seed gives the same plan. */
export function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}
export type Random = ReturnType<typeof random>;

export interface FaultPlan {
  faults: FaultSpec[];
  lambdaFaults: LambdaFault[];
}

/** What a clean run did: how many times it called each target, and invoked each Lambda Task. */
export interface CallProfile {
  /** `<Task>\u0000<service:Command>` -> how many times that Task made that call. */
  targets: Map<string, number>;
  tasks: Map<string, number>;
}

/**
 * What a clean run did, as the faults will count it: the calls each Task made (calls outside a
 * Task are the person's own steps, which faults do not reach) and the Lambda Tasks it invoked.
 */
export function profileOf(calls: SandboxCall[], lambdaTasks: string[]): CallProfile {
  const targets = new Map<string, number>();
  for (const call of calls) {
    if (!call.task) continue;
    const target =
      call.service === 'probe'
        ? 'probe:tcp'
        : call.service === 'dns'
          ? 'dns:resolve4'
          : `${call.service}:${call.command}`;
    const key = `${call.task}\u0000${target}`;
    targets.set(key, (targets.get(key) ?? 0) + 1);
  }
  return { targets, tasks: new Map(lambdaTasks.map((t) => [t, 1])) };
}

/** How each service throttles, fails on its side, and refuses (the SDK's names for them). */
const ERRORS: Record<string, { throttle: string; outage: string; denied: string }> = {
  ssm: { throttle: 'ThrottlingException', outage: 'InternalServerError', denied: 'AccessDeniedException' },
  eks: { throttle: 'ThrottlingException', outage: 'ServerException', denied: 'AccessDeniedException' },
  ec2: { throttle: 'RequestLimitExceeded', outage: 'InternalError', denied: 'UnauthorizedOperation' },
  efs: { throttle: 'ThrottlingException', outage: 'InternalServerError', denied: 'AccessDeniedException' },
  resolver: {
    throttle: 'ThrottlingException',
    outage: 'InternalServiceErrorException',
    denied: 'AccessDeniedException',
  },
  s3: { throttle: 'SlowDown', outage: 'InternalError', denied: 'AccessDenied' },
  sns: { throttle: 'Throttling', outage: 'InternalErrorException', denied: 'AuthorizationErrorException' },
  ce: { throttle: 'LimitExceededException', outage: 'InternalServerError', denied: 'AccessDeniedException' },
  kubernetes: { throttle: '429', outage: '503', denied: '403' },
  dns: { throttle: 'ETIMEOUT', outage: 'ESERVFAIL', denied: 'EREFUSED' },
  probe: { throttle: 'ETIMEDOUT', outage: 'ECONNREFUSED', denied: 'ECONNREFUSED' },
};

const LAMBDA_ERRORS: LambdaFault['error'][] = [
  'Lambda.Unknown',
  'States.Timeout',
  'Lambda.ServiceException',
  'Lambda.TooManyRequestsException',
];

/** One fault on a call the workflow makes. */
function oneFault(r: Random, profile: CallProfile): FaultSpec | undefined {
  const targets = [...profile.targets.entries()];
  if (!targets.length) return undefined;
  // A Task and one of its calls, so every step's calls get their share of faults, not only the busiest's.
  const [key, calls] = r.pick(targets);
  const [task, on] = key.split('\u0000') as [string, string];
  const service = on.split(':')[0] ?? '';
  const errors = ERRORS[service] ?? (ERRORS.ssm as (typeof ERRORS)[string]);
  const nth = 1 + r.int(calls);
  // Mostly passing faults (a single failure, or a few in a row); sometimes for good.
  const times = r.chance(0.15) ? ('always' as const) : r.chance(0.25) ? 2 + r.int(4) : 1;
  const aws = !['kubernetes', 'dns', 'probe'].includes(service);
  const kind = r.int(aws ? 6 : 4);
  const at = { on, task, nth, times };
  if (kind === 0) return { ...at, effect: 'error', error: errors.throttle };
  if (kind === 1) return { ...at, effect: 'error', error: errors.outage };
  if (kind === 2) return { ...at, effect: 'error', error: errors.denied };
  if (kind === 3) return { ...at, effect: 'network', error: r.pick(NETWORK_ERRORS) };
  return { ...at, effect: 'lost-response', error: r.pick(NETWORK_ERRORS) };
}

/** A plan of 1 to 3 faults; in a quarter of the runs one of them is a Task's Lambda failing. */
export function planFaults(r: Random, profile: CallProfile): FaultPlan {
  const plan: FaultPlan = { faults: [], lambdaFaults: [] };
  const count = 1 + r.int(3);
  const tasks = [...profile.tasks.keys()];
  for (let i = 0; i < count; i += 1) {
    if (tasks.length && r.chance(0.25)) {
      const state = r.pick(tasks);
      const attempt = 1 + r.int(2);
      const error = r.pick(LAMBDA_ERRORS);
      // Sometimes every attempt, so the Task's Catch runs too.
      const attempts = r.chance(0.3) ? [1, 2, 3] : [attempt];
      for (const a of attempts) plan.lambdaFaults.push({ state, attempt: a, error, afterWork: r.chance(0.5) });
      continue;
    }
    const fault = oneFault(r, profile);
    if (fault) plan.faults.push(fault);
  }
  return plan;
}

/** One line for a person: what the plan does. */
export function describePlan(plan: FaultPlan): string[] {
  return [
    ...plan.faults.map(
      (f) =>
        `${f.task ? `${f.task}: ` : ''}${f.on} call ${f.nth ?? 1}${f.times === 'always' ? ' onwards' : (f.times ?? 1) > 1 ? ` (+${(f.times as number) - 1})` : ''}: ${f.effect} ${f.error}`,
    ),
    ...plan.lambdaFaults.map(
      (f) => `${f.state} attempt ${f.attempt}: ${f.error} ${f.afterWork ? 'after its work' : 'before any work'}`,
    ),
  ];
}
