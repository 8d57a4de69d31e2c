import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAndRun, SILENT } from '#cli/local-run';
import { sandboxLocalRuntime } from '#cli/local-runtime';
import { nightlySweep } from '#cli/workflows/nightly-sweep';
import { SandboxEstate, withServices } from '#lib/sandbox/index';
import type { FaultSpec } from '#lib/sandbox/faults';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import { MEMORY_KEY } from '#lib/sweep/store';

/**
 * The nightly sweep under faults: no page goes out twice because its record could not be
 * written, and the failure alert says truly how far the night got.
 */

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-sweepfaults-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

async function night(estate: SandboxEstate, faults: FaultSpec[] = []) {
  const local = sandboxLocalRuntime(estate, home);
  for (const fault of faults) estate.injectFault(fault);
  const sent = estate.outbox.length;
  const first = estate.calls.length;
  const { result } = await prepareAndRun(nightlySweep, local, JSON.stringify({ trigger: 'manual' }), SILENT);
  estate.clearFaults();
  return { result, alerts: estate.outbox.slice(sent), calls: estate.calls.slice(first) };
}

const memoryOf = (estate: SandboxEstate) => estate.state.objects[sandboxStoreBucket(estate.seed.account)]?.[MEMORY_KEY];
const subjects = (alerts: Array<{ subject?: string }>) => alerts.map((a) => a.subject);

/** Which call of a command a Task makes, counted as the sandbox counts faults: from a clean night. */
async function nthCallBy(task: string, command: string): Promise<number> {
  const { calls } = await night(withServices(SandboxEstate.inMemory()));
  const of = calls.filter((c) => `${c.service}:${c.command}` === command);
  return of.findIndex((c) => c.task === task) + 1;
}

describe('case 6: no page twice in a night, and a failure alert that tells the truth', () => {
  it('pages each alert once when every write of the record of what was sent fails', async () => {
    const first = await nthCallBy('PublishSweepAlerts', 's3:PutObject');
    const estate = withServices(SandboxEstate.inMemory());

    const { result, alerts } = await night(estate, [
      { on: 's3:PutObject', effect: 'error', error: 'SlowDown', nth: first, times: 5 },
    ]);

    expect(result.status).toBe('SUCCEEDED');
    expect(alerts).toHaveLength(4);
    expect(new Set(subjects(alerts)).size).toBe(4);
  });

  it('fails at CommitSweep saying every alert went out and the memory could not be saved; the memory is unchanged', async () => {
    const remember = await nthCallBy('CommitSweep', 's3:PutObject');
    const estate = withServices(SandboxEstate.inMemory());
    const before = memoryOf(estate);

    const { result, alerts } = await night(estate, [
      { on: 's3:PutObject', effect: 'error', error: 'AccessDenied', nth: remember, times: 'always' },
    ]);

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AccessDenied');
    expect(memoryOf(estate)).toEqual(before);
    const failure = alerts.at(-1);
    expect(failure?.subject).toBe('[CRITICAL] nightly sweep failed: AccessDenied');
    expect(failure?.message).toContain(
      "All of 4 alert(s) went out, but the alert memory could not be saved: tomorrow's sweep reports these findings again as new.",
    );
    expect(failure?.message).not.toContain('Nothing was checked');
    expect(new Set(subjects(alerts)).size).toBe(alerts.length);
  });

  it('fails at PublishSweepAlerts naming the alerts that went out before', async () => {
    const estate = withServices(SandboxEstate.inMemory());

    const { result, alerts } = await night(estate, [
      { on: 'sns:Publish', effect: 'error', error: 'AuthorizationErrorException', nth: 3 },
    ]);

    expect(result.status).toBe('FAILED');
    expect(subjects(alerts).slice(0, 2)).toEqual([
      '[CRITICAL] gpu-hybrid-cluster compliance: 3 new (nightly sweep)',
      '[CRITICAL] gpu-hybrid-cluster connectivity: 3 new (nightly sweep)',
    ]);
    const failure = alerts.at(-1)?.message ?? '';
    expect(failure).toContain('failed at PublishSweepAlerts');
    expect(failure).toContain(
      '2 of 4 alert(s) are recorded as sent before it failed:\n- [CRITICAL] gpu-hybrid-cluster compliance: 3 new (nightly sweep)\n- [CRITICAL] gpu-hybrid-cluster connectivity: 3 new (nightly sweep)',
    );
    expect(memoryOf(estate)).toBeUndefined();
  });

  it('fails with AlertDeliveryError when SNS is down for good: never ends in silence', async () => {
    const estate = withServices(SandboxEstate.inMemory());

    const { result, alerts } = await night(estate, [
      { on: 'sns:Publish', effect: 'error', error: 'InternalErrorException', times: 'always' },
    ]);

    expect(alerts).toEqual([]);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('AlertDeliveryError');
    expect(JSON.parse(result.error?.cause ?? '{}')).toMatchObject({
      alertError: 'SNS.InternalErrorException',
      alert: { subject: '[CRITICAL] nightly sweep failed: AwsTransientError' },
    });
  });
});
