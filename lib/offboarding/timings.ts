import { NODE_COMMAND_TIMEOUT_SECONDS } from '../node-lifecycle/node-command';

/** Timings of the offboarding workflow (seconds). The ASL's Wait states are pinned to these by its tests. */
export const OFFBOARDING_TIMINGS = {
  /** Between drain passes: evicted pods need their grace period (30 s by default) to go. */
  drainPassWaitSeconds: 15,
  /**
   * How long after its deadline a drain may still run: pods evicted (or, with force, deleted) need
   * their grace period to go. Past it the workflow stops the drain (DrainBlockedError): a pod that
   * never goes (a finalizer, a kubelet that cannot confirm) must not loop the run into Step
   * Functions' 25,000-event history limit.
   */
  drainGraceSeconds: 600,
  /** Between looks at the `nodeadm uninstall` command. */
  commandWaitSeconds: 15,
  /** What the uninstall command may take, delivery and the agent's report included (checkNodeCommand's limit). */
  uninstallTimeoutSeconds: NODE_COMMAND_TIMEOUT_SECONDS,
  /** After the drain and the command: how long removing the Node and tidying may take before the lock is stale. */
  lockMarginSeconds: 1800,
} as const;
