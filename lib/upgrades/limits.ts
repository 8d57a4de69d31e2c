/**
 * How long each part of a node's upgrade may take, how often it is looked at, and from those, how
 * many nodes one upgrade request may roll: every number the workflow's waits and deadlines use.
 */

/** Waits and deadlines of one node's upgrade (seconds). */
export const UPGRADE_TIMINGS = {
  /**
   * A drain is looked at this many times at most: the wait between passes is its timeout over
   * this, never less than {@link UPGRADE_TIMINGS.drainMinWaitSeconds}. kubectl retries a refused
   * eviction every 5 s (kubectl pkg/cmd/drain, EvictErrorRetryDelay); a PodDisruptionBudget frees
   * up as replacement pods become Ready elsewhere, which takes tens of seconds.
   */
  drainMaxPasses: 30,
  drainMinWaitSeconds: 10,
  defaultDrainTimeoutSeconds: 600,
  minDrainTimeoutSeconds: 60,
  maxDrainTimeoutSeconds: 3600,
  /** Between looks at the `nodeadm upgrade` command (SSM GetCommandInvocation). */
  commandWaitSeconds: 90,
  /**
   * How long CheckNodeCommand waits for the command at most: the timeout RunNodeCommand gives it
   * (lib/node-lifecycle/node-command.ts NODE_COMMAND_TIMEOUT_SECONDS: SSM's delivery timeout,
   * AWS-RunShellScript's execution timeout, and time for the agent's report; `nodeadm upgrade`'s
   * own default timeout is 20 minutes, aws/eks-hybrid cmd/nodeadm/upgrade/upgrade.go). A test
   * keeps the two equal; this module does not import that one, which would bring the SSM client
   * into the API's bundles.
   */
  commandTimeoutSeconds: 2700,
  /** Between looks at the Node after the command succeeded, and how long it has to be Ready at the target. */
  readyWaitSeconds: 30,
  readyTimeoutSeconds: 900,
} as const;

/** `maxUnavailable`: nodes upgraded at once (one wave). AWS recommends one at a time. */
export const MAX_UNAVAILABLE = 10;

/**
 * AWS's limits on a Standard execution (Step Functions developer guide, "Service quotas":
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): 25,000 events in its
 * history, 256 KiB of data per state.
 */
export const HISTORY_EVENT_LIMIT = 25_000;
export const STATE_BYTES_LIMIT = 256 * 1024;

/**
 * The history events of one node's upgrade at worst, counted as Step Functions writes them: a
 * Lambda Task is 5 events (entered, scheduled, started, succeeded or failed, exited), a Choice,
 * Pass or Wait 2, a Map iteration 2 (started, succeeded). Each loop is at its longest: every drain
 * pass, every look at the command and at the Node until its deadline.
 */
export function worstEventsPerNode(t: typeof UPGRADE_TIMINGS = UPGRADE_TIMINGS): number {
  const task = 5;
  const other = 2;
  const loop = task + other + other; // the Task, the Choice after it, the Wait before the next
  const looks = (timeout: number, wait: number) => Math.ceil(timeout / wait) + 1;
  // Every pass in the timeout, the one past it (that deletes the refused pods when forced) and the one that sees it done.
  const drain = (t.drainMaxPasses + 2) * loop;
  const command = looks(t.commandTimeoutSeconds, t.commandWaitSeconds) * loop;
  const ready = looks(t.readyTimeoutSeconds, t.readyWaitSeconds) * loop;
  // Map iteration; StartNodeUpgrade and its Choice; CordonNode; RunNodeCommand; the Choice
  // before the uncordon; UncordonNode and the Choice after it; FinishNodeUpgrade (or FailNodeUpgrade).
  const fixed = other + (task + other) + task + task + other + (task + other) + task;
  return fixed + drain + command + ready;
}

/**
 * Events every run has besides its nodes' (CheckInput, PlanUpgrade, the waves' own states,
 * ReportUpgrade, the SNS publish and the end), counting one wave per node, the most there can be.
 */
export const RUN_EVENTS = 2 + 5 + 2 + 2 + 5 + 5 + 2 + 2;
export const EVENTS_PER_WAVE = 2 + 4 + 5 + 2; // SelectWave, the Map state, RecordUpgradeWave, NextWave

/**
 * One in five events kept for retries (each retried Task adds 3: failed, scheduled, started) and
 * whatever else the worst case above does not foresee.
 */
export const RETRY_MARGIN = 1.25;

/**
 * The most nodes one upgrade request may roll, so that even when every node takes its longest
 * the execution stays under {@link HISTORY_EVENT_LIMIT} events: 22 with the timings above
 * (879 events a node at worst, 892 with its wave). A larger request is refused with the fix: split it by
 * names or label selector.
 */
export const MAX_NODES_PER_UPGRADE = Math.floor(
  (HISTORY_EVENT_LIMIT / RETRY_MARGIN - RUN_EVENTS) / (worstEventsPerNode() + EVENTS_PER_WAVE),
);

/**
 * The wait between drain passes for a drain timeout: at most {@link UPGRADE_TIMINGS.drainMaxPasses}
 * passes in the timeout.
 */
export function drainWaitSeconds(drainTimeoutSeconds: number): number {
  const t = UPGRADE_TIMINGS;
  return Math.max(t.drainMinWaitSeconds, Math.ceil(drainTimeoutSeconds / (t.drainMaxPasses - 1)));
}

/**
 * How long a node's lock is held at most: the drain, the command and the wait for Ready at their
 * longest, and ten minutes for everything else. A lock left by a run that died is stale after it.
 */
export function nodeLockSeconds(drainTimeoutSeconds: number): number {
  const t = UPGRADE_TIMINGS;
  return drainTimeoutSeconds + t.commandTimeoutSeconds + t.readyTimeoutSeconds + 600;
}
