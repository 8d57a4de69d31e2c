import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OFFBOARDING_TIMINGS } from '#lib/offboarding/timings';

/**
 * The offboarding ASL's waits are the ones its steps count with: PrepareOffboarding bounds the
 * drain by a number of passes (deadline and grace over the wait between passes), and sets the
 * lock's expiry from the same figures.
 */
const asl = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'statemachines', 'offboard-node.asl.json'), 'utf8'),
) as {
  States: Record<string, { Seconds?: number }>;
};

describe('statemachines/offboard-node.asl.json', () => {
  it('waits between drain passes and command looks as lib/offboarding/timings.ts says', () => {
    expect(asl.States.WaitForDrain?.Seconds).toBe(OFFBOARDING_TIMINGS.drainPassWaitSeconds);
    expect(asl.States.WaitForNodeCommand?.Seconds).toBe(OFFBOARDING_TIMINGS.commandWaitSeconds);
  });
});
