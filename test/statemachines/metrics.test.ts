import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import { onboardNode } from '#cli/workflows/onboard-node';
import { filed as filedWithValues } from '#test/helpers/emf';

/**
 * The EMF documents one sandbox run of onboard-node emits through its real handlers: names,
 * units, dimensions, all in the EksHybridOps namespace with the stage as `service`.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'onboard-node.json');
let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-metrics-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function metricsOf(body: Record<string, unknown>, scenario: string) {
  const local = localRuntime('sandbox', home, {}, { scenario });
  const { result } = await prepareAndRun(onboardNode, local, JSON.stringify(body));
  return { result, metrics: result.metrics ?? [] };
}

/** Each metric without its value (this test pins names, units and dimensions). */
const filed = (documents: Parameters<typeof filedWithValues>[0]) =>
  filedWithValues(documents).map(({ value: _value, ...m }) => m);

const request = (): Record<string, unknown> => JSON.parse(readFileSync(EVENT, 'utf8'));

describe('metrics a sandbox onboarding emits', () => {
  it('joins: one OnboardingsJoined, each phase in seconds, the GPU verdict', async () => {
    const { result, metrics } = await metricsOf(request(), 'joins');

    expect(result.status).toBe('SUCCEEDED');
    const all = filed(metrics);
    expect(all.every((m) => m.namespace === 'EksHybridOps' && m.dimensions.service === 'sandbox')).toBe(true);
    expect(all.filter((m) => m.name === 'OnboardingsJoined')).toEqual([
      {
        namespace: 'EksHybridOps',
        name: 'OnboardingsJoined',
        unit: 'Count',
        dimensions: { service: 'sandbox', Outcome: 'joined' },
      },
    ]);
    const phases = all.filter((m) => m.name === 'PhaseDuration');
    expect(phases.every((m) => m.unit === 'Seconds')).toBe(true);
    expect(phases.map((m) => m.dimensions.Phase).sort()).toEqual([
      'issueActivation',
      'preflight',
      'renderNodeConfig',
      'total',
      'verifyingGpus',
      'waitingForNode',
      'waitingForRegistration',
    ]);
    expect(all.filter((m) => m.name === 'GpuVerifications')).toEqual([
      {
        namespace: 'EksHybridOps',
        name: 'GpuVerifications',
        unit: 'Count',
        dimensions: { service: 'sandbox', Verdict: 'verified' },
      },
    ]);
    expect(all.some((m) => m.name === 'OnboardingsFailed')).toBe(false);
  });

  it('never-registers: one OnboardingsFailed by the error name, and no request id anywhere', async () => {
    const { result, metrics } = await metricsOf({ ...request(), activationExpiresInHours: 1 }, 'never-registers');

    expect(result.status).toBe('FAILED');
    expect(filed(metrics)).toEqual([
      {
        namespace: 'EksHybridOps',
        name: 'OnboardingsFailed',
        unit: 'Count',
        dimensions: { service: 'sandbox', ErrorName: 'RegistrationTimeoutError' },
      },
    ]);
    expect(JSON.stringify(metrics)).not.toMatch(/requestId|mi-[0-9a-f]{8}/);
  });
});
