/** Timings of the offboarding workflow (seconds). The ASL's Wait states are pinned to these by its tests. */
export const OFFBOARDING_TIMINGS = {
  /** Between drain passes: evicted pods need their grace period (30 s by default) to go. */
  drainPassWaitSeconds: 15,
  /** Between looks at the `nodeadm uninstall` command. */
  commandWaitSeconds: 15,
  /** What the uninstall command may take, delivery and the agent's report included (checkNodeCommand's limit is less). */
  uninstallTimeoutSeconds: 5400,
  /** After the drain and the command: how long removing the Node and tidying may take before the lock is stale. */
  lockMarginSeconds: 1800,
} as const;
