import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun, SILENT } from '#cli/local-run';
import { sandboxLocalRuntime } from '#cli/local-runtime';
import type { LambdaFault } from '#cli/run-control';
import { reconcileNetwork } from '#cli/workflows/reconcile-network';
import type { NetworkReport } from '#lib/network/report';
import { SandboxEstate, withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed } from '#lib/sandbox/estate';
import type { FaultSpec } from '#lib/sandbox/faults';
import type { EstateSeed } from '#lib/sandbox/seed';

/**
 * The reconciler under faults and at scale: its outcomes survive any later failure and are
 * reported truly, a plan of thousands of actions stays out of the state, and what AWS does
 * asynchronously is waited out (or deferred, and said so).
 */

const VPC = 'vpc-0a1b2c3d4e5f60718';
const OWNER = 'eks-hybrid-ops/sandbox/gpu-hybrid-cluster';
const DRIFT = ['update-rule', 'associate-rule', 'create-mount-target', 'authorize-nfs', 'authorize-nfs', 'revoke-nfs'];
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-netfaults-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** An in-memory estate (thousands of rules: no state file rewritten after every call). */
function estateOf(edit?: (seed: EstateSeed) => void): SandboxEstate {
  const seed = loadSeed(DEFAULT_SEED);
  edit?.(seed);
  return withServices(SandboxEstate.inMemory(seed));
}

async function reconcile(
  estate: SandboxEstate,
  mode: 'plan' | 'apply',
  options: { faults?: FaultSpec[]; lambdaFaults?: LambdaFault[] } = {},
) {
  const local = sandboxLocalRuntime(estate, home);
  for (const fault of options.faults ?? []) estate.injectFault(fault);
  const sent = estate.outbox.length;
  const { result } = await prepareAndRun(
    reconcileNetwork,
    local,
    JSON.stringify({ mode }),
    SILENT,
    options.lambdaFaults,
  );
  estate.clearFaults();
  return { result, report: result.output as NetworkReport, alerts: estate.outbox.slice(sent) };
}

const outcomes = (report: NetworkReport) => report.actions.map((a) => a.outcome);

describe('case 5: the outcomes survive a later failure and are reported truly', () => {
  it('a failure publishing the mount targets after the apply: the alert lists every change the run made', async () => {
    const estate = estateOf();
    const { result, alerts } = await reconcile(estate, 'apply', {
      faults: [{ on: 'ssm:PutParameter', effect: 'error', error: 'AccessDeniedException', nth: 2, times: 'always' }],
    });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AccessDeniedException');
    expect(result.visited).toContain('PublishMountTargets');
    const message = alerts.at(-1)?.message ?? '';
    expect(message).toContain('failed at PublishMountTargets.');
    expect(message).toContain(
      'Before it failed: Outcomes: 6 done, 0 already so, 0 failed, 0 skipped, 0 still in progress.',
    );
    for (const type of DRIFT) expect(message).toContain(`- ${type} `);
    expect(message).not.toContain('Nothing was changed');
  });

  it('a throttle after the apply retries only that step: the run calls its own changes done, not "already done"', async () => {
    const estate = estateOf();
    const { result, report } = await reconcile(estate, 'apply', {
      // The first PutParameter is the CLI deploying the desired state; the second publishes the mount targets.
      faults: [{ on: 'ssm:PutParameter', effect: 'error', error: 'ThrottlingException', nth: 2, times: 3 }],
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(outcomes(report)).toEqual(DRIFT.map(() => 'done'));
    expect(result.history.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual([
      'PublishMountTargets',
    ]);
  });

  it('a crash after Apply did its work: the retry finds the recorded outcomes and applies nothing twice', async () => {
    const estate = estateOf();
    const { result, report } = await reconcile(estate, 'apply', {
      lambdaFaults: [{ state: 'ApplyNetworkPlan', attempt: 1, error: 'Lambda.Unknown', afterWork: true }],
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(outcomes(report)).toEqual(DRIFT.map(() => 'done'));
    const mutations = estate.calls.filter((c) => /^(Update|Associate|Create|Authorize|Revoke)/.test(c.command));
    expect(mutations).toHaveLength(DRIFT.length);
  });

  it('a failed write of an outcome is written with the next one; nothing is applied twice', async () => {
    const estate = estateOf();
    const { result, report } = await reconcile(estate, 'apply', {
      // PutObject 1 and 2 are the two plans; 3 is the first outcome.
      faults: [{ on: 's3:PutObject', effect: 'network', error: 'ECONNRESET', nth: 3 }],
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(outcomes(report)).toEqual(DRIFT.map(() => 'done'));
  });
});

describe('case 7: a plan of thousands of actions never passes through the state', () => {
  it('applies and reports 5,006 actions, every state under 256 KiB, and a plan after it finds nothing', async () => {
    const RULES = 2500;
    const estate = estateOf((seed) => {
      for (let i = 0; i < RULES; i += 1) {
        seed.network.resolverRules.push({
          id: `rslvr-rr-${String(i).padStart(17, '0')}`,
          name: `retired-${i}`,
          domain: `retired${i}.company.local`,
          ruleType: 'FORWARD',
          endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
          targets: [{ ip: '192.168.1.53', port: 53 }],
          creatorRequestId: `hybridops-retired-${i}`,
          tags: [{ Key: 'hybridops:managed-by', Value: OWNER }],
          vpcs: [VPC],
        });
      }
    });

    const { result, report } = await reconcile(estate, 'apply');

    expect(result.status).toBe('SUCCEEDED');
    expect(report.actionsTotal).toBe(DRIFT.length + 2 * RULES);
    expect(report.counts).toEqual({
      done: DRIFT.length + 2 * RULES,
      alreadyDone: 0,
      failed: 0,
      skipped: 0,
      deferred: 0,
    });
    expect(report.actions).toHaveLength(50);
    expect(report.reportKey).toMatch(/^runs\/reconcile-\d{8}T\d{6}Z-[0-9a-f]{6}\/report\.json$/);
    const largest = Math.max(...result.history.map((e) => Buffer.byteLength(JSON.stringify(e.data ?? null))));
    expect(largest).toBeLessThan(256 * 1024);
    expect(estate.state.network.resolverRules.filter((r) => r.domain.startsWith('retired'))).toEqual([]);

    const again = await reconcile(estate, 'plan');
    expect(again.report.actionsTotal).toBe(0);
  }, 120_000);
});

describe('case 8: what AWS does asynchronously is waited out, or deferred and said so', () => {
  const retired = (seed: EstateSeed) =>
    seed.network.resolverRules.push({
      id: 'rslvr-rr-0retired0retired01',
      name: 'retired',
      domain: 'retired.company.local',
      ruleType: 'FORWARD',
      endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
      targets: [{ ip: '192.168.1.53', port: 53 }],
      creatorRequestId: 'hybridops-retired',
      tags: [{ Key: 'hybridops:managed-by', Value: OWNER }],
      vpcs: [VPC],
    });

  it('deletes a rule once its disassociation (DELETING) is over', async () => {
    const estate = estateOf(retired);

    const { result, report } = await reconcile(estate, 'apply');

    expect(result.status).toBe('SUCCEEDED');
    const removal = report.actions.filter(
      (a) => a.resource.startsWith('retired') || a.resource === 'rslvr-rr-0retired0retired01',
    );
    expect(removal.map((a) => [a.type, a.outcome])).toEqual([
      ['disassociate-rule', 'done'],
      ['delete-rule', 'done'],
    ]);
    expect(estate.state.network.resolverRules.find((r) => r.id === 'rslvr-rr-0retired0retired01')).toBeUndefined();
  });

  it('defers what AWS has not finished after ten looks, alerts with a warning, and the next run finishes it', async () => {
    const estate = estateOf((seed) => {
      retired(seed);
      seed.network.delays.disassociateSeconds = 3600;
    });

    const first = await reconcile(estate, 'apply');

    expect(first.result.status).toBe('SUCCEEDED');
    const deleteRule = first.report.actions.find((a) => a.type === 'delete-rule');
    expect(deleteRule?.outcome).toMatch(
      /^deferred: its VPC associations are still being removed after 10 looks 30 s apart; the next run finishes it$/,
    );
    expect(first.report.counts.deferred).toBe(1);
    expect(first.alerts.at(-1)?.subject).toBe('[WARNING] 1 network change(s) still in progress at AWS');
    expect(first.result.visited.filter((s) => s === 'WaitForAws')).toHaveLength(9);

    estate.advance(3600);
    const second = await reconcile(estate, 'apply');
    expect(second.report.actions.map((a) => [a.type, a.outcome])).toEqual([['delete-rule', 'done']]);
  });
});
