import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAOS_WORKFLOWS } from '#cli/chaos/command';
import { type ChaosWorkflow, runChaos } from '#cli/chaos/engine';
import { describePlan, planFaults, profileOf, random } from '#cli/chaos/faults';
import { main } from '#cli/main';

/**
 * The chaos tier in the test suite: each workflow's real state machine, 100 runs from a fixed
 * seed, each with its own random fault plan; every invariant must hold after every run. The
 * full runs (1,000 and more, any seed) are `npm run chaos`.
 */

const RUNS = 100;
let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-chaos-test-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe.each(Object.keys(CHAOS_WORKFLOWS))('%s under seeded fault plans', (name) => {
  it(`keeps every invariant in ${RUNS} runs`, async () => {
    const summary = await runChaos(CHAOS_WORKFLOWS[name] as ChaosWorkflow, { runs: RUNS, seed: 1, home });

    expect(summary.violations).toEqual([]);
    expect(summary.passed).toBe(RUNS);
    // The plans bite: faults were injected and some runs ended failed (with their alert).
    expect(summary.faults).toBeGreaterThanOrEqual(RUNS);
    expect(summary.faultsHit).toBeGreaterThan(summary.faults / 2);
    const failed = Object.entries(summary.endings).filter(([ending]) => ending.startsWith('FAILED'));
    expect(failed.reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(RUNS / 10);
  }, 120_000);
});

describe('the chaos engine', () => {
  const calls = [
    { service: 'ssm', command: 'PutParameter', task: 'Preflight' },
    { service: 'ssm', command: 'PutParameter', task: 'Preflight' },
    { service: 'eks', command: 'DescribeCluster', task: 'Preflight' },
    { service: 'dns', command: 'QueryVpcResolver', task: 'CheckSweepDns' },
    { service: 'ssm', command: 'GetParameter' },
  ];

  it('plans only faults on calls a Task really makes, the same plan for the same seed', () => {
    const profile = profileOf(calls, ['Preflight']);
    const plans = Array.from({ length: 50 }, (_, seed) => planFaults(random(seed), profile));

    expect([...profile.targets.keys()].sort()).toEqual([
      'CheckSweepDns\u0000dns:resolve4',
      'Preflight\u0000eks:DescribeCluster',
      'Preflight\u0000ssm:PutParameter',
    ]);
    for (const plan of plans) {
      expect(plan.faults.length + plan.lambdaFaults.length).toBeGreaterThan(0);
      for (const f of plan.faults) {
        expect(profile.targets.get(`${f.task}\u0000${f.on}`)).toBeGreaterThanOrEqual(f.nth ?? 1);
      }
      for (const f of plan.lambdaFaults) expect(f.state).toBe('Preflight');
    }
    expect(describePlan(planFaults(random(7), profile))).toEqual(
      describePlan(plans[7] ?? { faults: [], lambdaFaults: [] }),
    );
  });

  it('reports each violation with its run seed and fault plan, so one run reproduces it', async () => {
    const real = CHAOS_WORKFLOWS['onboard-node'] as ChaosWorkflow;
    const strict: ChaosWorkflow = {
      ...real,
      check: async (o) => (o.result.status === 'FAILED' ? ['nothing fails'] : []),
    };

    const summary = await runChaos(strict, { runs: 20, seed: 500, home });
    const [first] = summary.violations;
    const again = await runChaos(strict, { runs: 1, seed: first?.seed ?? 0, home });

    expect(summary.violations.length).toBe(summary.runs - summary.passed);
    expect(first).toMatchObject({ invariant: 'nothing fails', run: { status: 'FAILED' } });
    expect(first?.plan.length).toBeGreaterThan(0);
    expect(again.violations).toEqual([first]);
  });

  it('npm run chaos: one JSON object, exit 0 when nothing broke, 2 on misuse', async () => {
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => out.push(t) } };

    const code = await main(['chaos', '--workflow', 'nightly-sweep', '--runs', '3', '--seed', '9', '--json'], io);
    const misuse = await main(['chaos', '--workflow', 'nightly-sweep', '--runs', 'many'], io);

    expect(code).toBe(0);
    expect(JSON.parse(out[0] ?? '{}')).toMatchObject({
      workflow: 'nightly-sweep',
      seed: 9,
      runs: 3,
      passed: 3,
      violations: [],
    });
    expect(misuse).toBe(2);
    expect(out.at(-1)).toContain('--runs must be a whole number from 1 to 100000');
  });
});
