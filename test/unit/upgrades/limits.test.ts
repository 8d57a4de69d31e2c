import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allStates, type StateNode } from '#cli/asl';
import { NODE_COMMAND_TIMEOUT_SECONDS } from '#lib/node-lifecycle/node-command';
import {
  drainWaitSeconds,
  EVENTS_PER_WAVE,
  HISTORY_EVENT_LIMIT,
  MAX_NODES_PER_UPGRADE,
  RETRY_MARGIN,
  RUN_EVENTS,
  UPGRADE_TIMINGS,
  worstEventsPerNode,
} from '#lib/upgrades/limits';

const definition = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'statemachines', 'upgrade-nodes.asl.json'), 'utf8'),
) as StateNode;
const state = (name: string) => allStates(definition).find((s) => s.name === name)?.state as StateNode;

describe('how many nodes one upgrade may roll', () => {
  it('is computed from the worst case of each node, and pinned', () => {
    // Drain: 32 passes of DrainNode (5), IsDrained (2), WaitForDrain (2); command: 31 looks
    // (2,700 s every 90 s, and the first); Node: 31 looks (900 s every 30 s, and the first); 33 more.
    expect(worstEventsPerNode()).toBe(32 * 9 + 31 * 9 + 31 * 9 + 33);
    expect(worstEventsPerNode()).toBe(879);
    expect(MAX_NODES_PER_UPGRADE).toBe(22);
    const worstRun = RUN_EVENTS + MAX_NODES_PER_UPGRADE * (worstEventsPerNode() + EVENTS_PER_WAVE);
    expect(worstRun * RETRY_MARGIN).toBeLessThanOrEqual(HISTORY_EVENT_LIMIT);
    const oneMore = RUN_EVENTS + (MAX_NODES_PER_UPGRADE + 1) * (worstEventsPerNode() + EVENTS_PER_WAVE);
    expect(oneMore * RETRY_MARGIN).toBeGreaterThan(HISTORY_EVENT_LIMIT);
  });

  it('counts the waits the state machine really has, and the command timeout RunNodeCommand gives', () => {
    expect(UPGRADE_TIMINGS.commandTimeoutSeconds).toBe(NODE_COMMAND_TIMEOUT_SECONDS);
    expect(state('WaitForNodeCommand').Seconds).toBe(UPGRADE_TIMINGS.commandWaitSeconds);
    expect(state('WaitForUpgradedNode').Seconds).toBe(UPGRADE_TIMINGS.readyWaitSeconds);
    expect(state('WaitForDrain').SecondsPath).toBe('$.start.drainWaitSeconds');
  });

  it('spreads a drain over at most its passes, and never polls faster than every 10 s', () => {
    for (const timeout of [60, 600, 1000, 3600]) {
      const wait = drainWaitSeconds(timeout);
      expect(wait).toBeGreaterThanOrEqual(UPGRADE_TIMINGS.drainMinWaitSeconds);
      // Passes at 0, wait, 2 x wait, ... while within the timeout.
      expect(Math.floor(timeout / wait) + 1).toBeLessThanOrEqual(UPGRADE_TIMINGS.drainMaxPasses);
    }
    expect(drainWaitSeconds(600)).toBe(21);
  });
});
