import { MAX_DETAILED } from '#lib/notifications';
import { checkFailureAlert, sweepAlerts, sweepFailureAlert } from '#lib/sweep/alerts';
import { emptyMemory, type SweepFinding, triage } from '#lib/sweep/findings';

const f = (
  id: string,
  severity: SweepFinding['severity'],
  check: SweepFinding['check'] = 'compliance',
): SweepFinding => ({
  id: `${check}:${id}`,
  check,
  severity,
  cluster: 'gpu-hybrid-cluster',
  resource: id,
  message: `${id} is wrong.`,
  evidence: check === 'connectivity' ? 'jitter 3.40 ms (warning)' : undefined,
  fix: `Fix ${id}.`,
});
const NIGHT = [new Date('2026-11-22T18:00:00Z'), new Date('2026-11-23T18:00:00Z')] as const;
const ctx = { stage: 'dev', date: '2026-11-23' };

describe('sweepAlerts', () => {
  it('pages new findings, one message per cluster and check, with evidence and fix', () => {
    const t = triage(
      emptyMemory(),
      [f('mi-1', 'warning'), f('dns-1', 'warning', 'connectivity'), f('act-1', 'critical')],
      NIGHT[0],
    );
    const alerts = sweepAlerts(t, ctx);
    expect(alerts.map((a) => [a.subject, a.severity, a.check])).toEqual([
      ['[CRITICAL] gpu-hybrid-cluster compliance: 2 new (nightly sweep)', 'critical', 'compliance'],
      ['[WARNING] gpu-hybrid-cluster connectivity: 1 new (nightly sweep)', 'warning', 'connectivity'],
    ]);
    expect(alerts[1]?.message).toContain('  Evidence: jitter 3.40 ms (warning)\n  Fix: Fix dns-1.');
  });

  it('sends one info digest the next night when nothing is new, a line per open finding', () => {
    const first = triage(emptyMemory(), [f('mi-1', 'warning'), f('dns-1', 'warning', 'connectivity')], NIGHT[0]);
    const second = triage(first.memory, [f('mi-1', 'warning'), f('dns-1', 'warning', 'connectivity')], NIGHT[1]);
    const alerts = sweepAlerts(second, ctx);
    expect(alerts.map((a) => [a.subject, a.severity, a.cluster, a.check])).toEqual([
      ['[INFO] dev nightly digest: 2 still open', 'info', 'gpu-hybrid-cluster', 'all'],
    ]);
    expect(alerts[0]?.message).toContain('gpu-hybrid-cluster compliance:\n- [warning] mi-1: mi-1 is wrong.');
    expect(alerts[0]?.message).toContain('gpu-hybrid-cluster connectivity:\n- [warning] dns-1: dns-1 is wrong.');
    expect(alerts[0]?.message).not.toContain('Fix:');
  });

  it("pages a finding that got worse, with the group's resolved ones as context", () => {
    const first = triage(emptyMemory(), [f('mi-1', 'warning'), f('mi-2', 'warning')], NIGHT[0]);
    const second = triage(first.memory, [f('mi-1', 'critical')], NIGHT[1]);
    const [alert] = sweepAlerts(second, ctx);
    expect(alert?.subject).toBe('[CRITICAL] gpu-hybrid-cluster compliance: 1 worse, 1 resolved (nightly sweep)');
    expect(alert?.message).toContain('Resolved:\n- mi-2 (was warning)');
  });

  it('says in the digest what resolved where nothing else changed', () => {
    const first = triage(emptyMemory(), [f('mi-1', 'warning')], NIGHT[0]);
    const second = triage(first.memory, [], NIGHT[1]);
    const alerts = sweepAlerts(second, ctx);
    expect(alerts.map((a) => a.subject)).toEqual(['[INFO] dev nightly digest: 1 resolved']);
    expect(alerts[0]?.message).toContain('- resolved: mi-1 (was warning)');
  });

  it('lists at most MAX_DETAILED findings in full and points to the report for the rest', () => {
    const many = Array.from({ length: MAX_DETAILED + 3 }, (_, i) => f(`mi-${i}`, 'warning'));
    const [alert] = sweepAlerts(triage(emptyMemory(), many, NIGHT[0]), { ...ctx, report: 's3://b/runs/x/report.json' });
    expect(alert?.message.match(/^- \[warning\]/gm)).toHaveLength(MAX_DETAILED);
    expect(alert?.message).toContain('- ... and 3 more: every finding is in s3://b/runs/x/report.json');
  });

  it('sends nothing on a clean night after a clean night', () => {
    expect(sweepAlerts(triage(emptyMemory(), [], NIGHT[0]), ctx)).toEqual([]);
  });
});

describe('sweepFailureAlert', () => {
  it('is critical and says nothing was checked', () => {
    const alert = sweepFailureAlert({
      stage: 'dev',
      error: 'AwsTransientError',
      problem: 'throttled',
      fix: 'wait',
      step: 'SweepInventory',
    });
    expect(alert).toMatchObject({
      severity: 'critical',
      check: 'sweep',
      subject: '[CRITICAL] nightly sweep failed: AwsTransientError',
    });
    expect(alert.message).toContain('no finding was updated or resolved');
  });
});

describe('checkFailureAlert', () => {
  it('is critical, names the check and says its earlier findings are kept', () => {
    const alert = checkFailureAlert({
      stage: 'dev',
      check: 'cost',
      error: 'AccessDeniedException',
      problem: 'no ce:GetCostAndUsage',
    });
    expect(alert).toMatchObject({
      severity: 'critical',
      check: 'cost',
      cluster: 'all',
      subject: '[CRITICAL] nightly cost check failed: AccessDeniedException',
    });
    expect(alert.message).toContain('could not run: AccessDeniedException: no ce:GetCostAndUsage');
    expect(alert.message).toContain('none is resolved tonight');
  });
});
