import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun } from '#cli/local-run';
import { localRuntime } from '#cli/local-runtime';
import { reconcileNetwork } from '#cli/workflows/reconcile-network';
import type { NetworkReport } from '#lib/network/report';
import type { SandboxEstate } from '#lib/sandbox/estate';

/**
 * The real statemachines/reconcile-network.asl.json on the sandbox estate, whose seed has drift:
 * plan, apply, idempotence, the drift alert, the empty-config refusal and a partial failure.
 */

const MUTATING = /^(Create|Update|Associate|Disassociate|Delete|Authorize|Revoke|Put)/;
let home: string;
const configBefore = process.env.HYBRIDOPS_CONFIG;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-net-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  if (configBefore === undefined) delete process.env.HYBRIDOPS_CONFIG;
  else process.env.HYBRIDOPS_CONFIG = configBefore;
});

async function reconcile(input: Record<string, unknown>, arrange?: (estate: SandboxEstate) => void) {
  const local = localRuntime('sandbox', home, {});
  const estate = local.estate as SandboxEstate;
  arrange?.(estate);
  const first = estate.calls.length;
  const { result } = await prepareAndRun(reconcileNetwork, local, JSON.stringify(input));
  const calls = estate.calls.slice(first);
  return { result, report: result.output as NetworkReport, estate, calls };
}

const types = (report: NetworkReport) => report.actions.map((a) => a.type);
const DRIFT = ['update-rule', 'associate-rule', 'create-mount-target', 'authorize-nfs', 'authorize-nfs', 'revoke-nfs'];

describe('reconcile-network on the sandbox estate', () => {
  it('plan: lists the seeded drift and the unmanaged rule, and changes nothing', async () => {
    const { result, report, estate } = await reconcile({ mode: 'plan' });

    expect(result.status).toBe('SUCCEEDED');
    const branches = ['PlanResolver', 'PlanEfs'];
    expect(result.visited.filter((s) => !branches.includes(s))).toEqual([
      'LoadDesiredState',
      'Plan',
      'IsApply',
      'CheckResolution',
      'ReportNetwork',
      'ShouldAlert',
      'Alert',
      'Outcome',
      'Done',
    ]);
    expect(result.visited.filter((s) => branches.includes(s)).sort()).toEqual(['PlanEfs', 'PlanResolver']);
    expect(types(report)).toEqual(DRIFT);
    expect(report.actions.every((a) => a.outcome === undefined)).toBe(true);
    expect(report.conflicts.map((c) => c.resource)).toEqual(['rslvr-rr-0badc0de0badc0de1']);
    // Where on-prem hosts mount EFS today, in the run's output even in plan mode.
    expect(report.mountTargets).toEqual([
      {
        cluster: 'gpu-hybrid-cluster',
        fileSystemId: 'fs-0a1b2c3d4e5f60718',
        mountOptions: 'vers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2',
        mountTargets: [
          { availabilityZone: 'ap-northeast-2a', ipAddress: '10.0.1.25', mountTargetId: 'fsmt-0a1b2c3d4e5f60718' },
        ],
      },
    ]);
    expect(estate.state.network.resolverRules.find((r) => r.domain === 'company.local')?.vpcs).toEqual([]);
    // With the rule not associated, the VPC cannot resolve the on-prem name: that is critical.
    expect(report.resolution).toEqual([
      expect.objectContaining({
        name: 'harbor.company.local',
        direction: 'aws-to-on-prem',
        ok: false,
        error: 'ENOTFOUND',
      }),
      expect.objectContaining({ name: 'my-service.eks.amazonaws.com', direction: 'on-prem-to-aws', ok: true }),
    ]);
    // A person's plan is no drift page; the broken DNS path is still an alert.
    expect(estate.outbox.map((m) => m.subject)).toEqual(['[CRITICAL] 1 critical network finding(s)']);
  });

  it('apply: makes every change, then a plan shows none and a second apply makes no mutating call', async () => {
    const applied = await reconcile({ mode: 'apply' });
    expect(applied.result.status).toBe('SUCCEEDED');
    // AWS makes the association (CREATING, 30 s in the sandbox) and the mount target (creating,
    // 90 s) asynchronously: the apply looks again every 30 s until both are done.
    expect(applied.result.visited.filter((s) => s === 'WaitForAws')).toHaveLength(3);
    expect(applied.result.visited.filter((s) => s === 'ApplyNetworkPlan')).toHaveLength(4);
    expect(applied.report.actions.map((a) => a.outcome)).toEqual(DRIFT.map(() => 'done'));
    expect(applied.report.published).toEqual([expect.objectContaining({ result: 'published' })]);
    // After the apply, DNS works both ways.
    expect(applied.report.resolution).toEqual([
      expect.objectContaining({ name: 'harbor.company.local', ok: true, answers: ['192.168.20.10'] }),
      expect.objectContaining({ name: 'my-service.eks.amazonaws.com', ok: true, answers: ['10.0.1.200'] }),
    ]);

    const planned = await reconcile({ mode: 'plan' });
    expect(planned.report.actions).toEqual([]);
    expect(planned.report.conflicts).toHaveLength(1); // still not ours, still left alone

    const again = await reconcile({ mode: 'apply' });
    expect(again.report.actions).toEqual([]);
    // The only write to the network is the CLI deploying the desired state before the run, as osls
    // deploy would (the run store's objects are the run's own record, not a change).
    const mutating = again.calls.filter((c) => MUTATING.test(c.command) && c.service !== 's3');
    expect(mutating.map((c) => [c.service, c.command, c.task ?? 'no Task'])).toEqual([
      ['ssm', 'PutParameter', 'no Task'],
    ]);
  });

  it('alerts on drift found by the schedule, listing each difference and how to apply', async () => {
    const { report, estate } = await reconcile({ mode: 'plan', trigger: 'schedule' });

    // Critical, because the drift has broken on-prem name resolution (see the first test).
    expect(report.notification?.severity).toBe('critical');
    const alert = estate.outbox.at(-1);
    expect(alert?.subject).toBe('[CRITICAL] network drift: 6 difference(s) from the desired state');
    expect(alert?.attributes).toEqual({ severity: 'critical', cluster: 'gpu-hybrid-cluster', check: 'network' });
    expect(alert?.message).toContain('harbor.company.local does not resolve through the VPC resolver');
    expect(alert?.message).toContain('- revoke-nfs sg-0e5f0a1b2c3d40718/sgr-0bbbb0000000000b2');
    expect(alert?.message).toContain('{"mode": "apply"}');
  });

  it('refuses to apply an empty desired state, changes nothing, and alerts', async () => {
    const empty = join(home, 'empty.yaml');
    writeFileSync(empty, 'version: 1\nclusters: []\n');
    process.env.HYBRIDOPS_CONFIG = empty;

    const { result, estate } = await reconcile({ mode: 'apply' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('EmptyDesiredStateError');
    expect(result.visited).toEqual(['LoadDesiredState', 'ReportNetworkFailure', 'AlertFailure', 'Failed']);
    expect(estate.calls.filter((c) => MUTATING.test(c.command) && c.command !== 'PutParameter')).toEqual([]);
    expect(estate.outbox.at(-1)?.subject).toBe('[CRITICAL] network reconciliation failed: EmptyDesiredStateError');
  });

  it('rejects an invalid desired-state file before anything runs', async () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync(join(__dirname, '..', '..', 'config', 'sandbox.yaml'), 'utf8').replace(
        'fs-0a1b2c3d4e5f60718',
        'fs-nope',
      ),
    );
    process.env.HYBRIDOPS_CONFIG = bad;
    const local = localRuntime('sandbox', home, {});

    const prepared = await reconcileNetwork.prepare(JSON.stringify({ mode: 'apply' }), local);

    expect(prepared.ok).toBe(false);
    expect(prepared.ok ? [] : prepared.problems).toEqual([
      expect.stringContaining('clusters.0.efs.fileSystemId: efs.fileSystemId must look like fs-'),
    ]);
  });

  it('keeps going when one action fails, reports each outcome, alerts and fails', async () => {
    const { result, estate } = await reconcile({ mode: 'apply' }, (e) =>
      e.injectFault({
        on: 'resolver:AssociateResolverRule',
        effect: 'error',
        error: 'AccessDeniedException',
        message: 'not authorized',
      }),
    );

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('NetworkActionsFailedError');
    const report = JSON.parse(
      JSON.stringify(
        result.history.filter((h) => h.state === 'ReportNetwork' && h.type === 'StateExited').at(-1)?.data,
      ),
    ).report as NetworkReport;
    expect(report.actions.map((a) => a.outcome)).toEqual([
      'done',
      'failed: AccessDeniedException: not authorized',
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(estate.outbox.at(-1)?.subject).toBe('[CRITICAL] 1 of 6 network change(s) failed');
  });
});
