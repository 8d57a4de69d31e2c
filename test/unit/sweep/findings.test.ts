import { emptyMemory, type SweepFinding, triage } from '#lib/sweep/findings';

const finding = (id: string, severity: SweepFinding['severity'] = 'warning'): SweepFinding => ({
  id,
  check: 'compliance',
  severity,
  cluster: 'gpu-hybrid-cluster',
  resource: id.split(':').pop() ?? id,
  message: `${id} is wrong`,
  fix: 'fix it',
});
const night = (n: number) => new Date(Date.UTC(2026, 10, 22 + n, 18));

describe('triage: alert once, digest while it lasts, say when it resolves', () => {
  it('alerts every finding on the first night', () => {
    const t = triage(emptyMemory(), [finding('a'), finding('b', 'critical')], night(0));
    expect(t.fresh.map((f) => f.id)).toEqual(['a', 'b']);
    expect(t.worsened).toEqual([]);
    expect(t.ongoing).toEqual([]);
    expect(t.memory.findings.a).toEqual({
      severity: 'warning',
      cluster: 'gpu-hybrid-cluster',
      resource: 'a',
      firstSeen: night(0).toISOString(),
      lastAlerted: night(0).toISOString(),
    });
  });

  it('does not page the same finding again the next night', () => {
    const first = triage(emptyMemory(), [finding('a')], night(0));
    const second = triage(first.memory, [finding('a')], night(1));
    expect(second.fresh).toEqual([]);
    expect(second.ongoing.map((f) => f.id)).toEqual(['a']);
    expect(second.memory.findings.a?.firstSeen).toBe(night(0).toISOString());
    expect(second.memory.findings.a?.lastAlerted).toBe(night(0).toISOString());
  });

  it('alerts again when a finding gets worse, not when it gets better', () => {
    const first = triage(emptyMemory(), [finding('a', 'warning'), finding('b', 'critical')], night(0));
    const second = triage(first.memory, [finding('a', 'critical'), finding('b', 'warning')], night(1));
    expect(second.worsened.map((f) => f.id)).toEqual(['a']);
    expect(second.ongoing.map((f) => f.id)).toEqual(['b']);
    expect(second.memory.findings.a?.lastAlerted).toBe(night(1).toISOString());
  });

  it('says when a finding resolved, and forgets it', () => {
    const first = triage(emptyMemory(), [finding('a'), finding('b')], night(0));
    const second = triage(first.memory, [finding('b')], night(1));
    expect(second.resolved).toEqual([{ id: 'a', cluster: 'gpu-hybrid-cluster', resource: 'a', severity: 'warning' }]);
    expect(Object.keys(second.memory.findings)).toEqual(['b']);
  });

  it('counts a finding once per night', () => {
    expect(triage(emptyMemory(), [finding('a'), finding('a')], night(0)).fresh).toHaveLength(1);
  });
});
