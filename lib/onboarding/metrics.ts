import { type CaughtError, describeCaughtError } from '../caught-error';
import { type MetricPoint, point } from '../metrics';
import type { OnboardingSummary } from './finish';

/** What Finish reports: the node joined (Ready or not), each phase's seconds, the GPUs' verdict. */
export function onboardingFinished(summary: Pick<OnboardingSummary, 'outcome' | 'timings' | 'gpu'>): MetricPoint[] {
  const points: MetricPoint[] = [point('OnboardingsJoined', 1, { Outcome: summary.outcome })];
  for (const [phase, seconds] of Object.entries(summary.timings ?? {})) {
    if (typeof seconds === 'number') points.push(point('PhaseDuration', seconds, { Phase: phase }));
  }
  if (summary.gpu) points.push(point('GpuVerifications', 1, { Verdict: summary.gpu.verdict }));
  return points;
}

/** An onboarding CleanUp undid: failed, by the error's name (a bounded set: lib/errors.ts and States.*). */
export const onboardingFailed = (failure: CaughtError | undefined): MetricPoint[] => [
  point('OnboardingsFailed', 1, { ErrorName: failure ? describeCaughtError(failure).name : 'Unknown' }),
];
