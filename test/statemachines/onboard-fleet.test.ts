import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useScenario } from '#cli/chaos/onboard-fleet';
import { fleetBody } from '#scripts/bench-fleet';
import { prepareAndRun } from '#cli/local-run';
import { sandboxLocalRuntime } from '#cli/local-runtime';
import { main } from '#cli/main';
import type { RunResult } from '#cli/runner';
import { fleetOutcomeOf, onboardFleet } from '#cli/workflows/onboard-fleet';
import type { FleetInput } from '#lib/fleets/state';
import type { FleetSummary } from '#lib/fleets/summarize-fleet';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { cliIo } from '../helpers/cli-io';

/**
 * The real statemachines/onboard-fleet.asl.json on the sandbox, each server a child execution of
 * the real onboard-node: the PoC all joined (80 GPUs verified), one server that never registers
 * (the other nine join, it is cleaned up and named with its fix), one without the device plugin
 * (the warning state naming it), 100 servers (state size, transitions), and a bad input.
 */

const EVENT = join(__dirname, '..', '..', 'events', 'onboard-fleet.json');
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hybridops-fleet-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const poc = () => JSON.parse(readFileSync(EVENT, 'utf8')) as Record<string, unknown> & { servers: unknown[] };

async function run(body: Record<string, unknown>, scenario = 'joins') {
  const estate = withServices(SandboxEstate.inMemory());
  useScenario(estate, scenario);
  const local = { ...sandboxLocalRuntime(estate, home), estate };
  const { input, result } = await prepareAndRun(onboardFleet, local, JSON.stringify(body));
  const bucket = local.runtime.settings.storeBucket ?? '';
  const stored = (key: string) => JSON.parse(estate.state.objects?.[bucket]?.[key] ?? 'null') as unknown;
  return { result, estate, input: input as FleetInput, stored };
}

const entered = (r: RunResult) => r.history.filter((e) => e.type === 'StateEntered').length;
const largestState = (r: RunResult) =>
  Math.max(...r.history.map((h) => Buffer.byteLength(JSON.stringify(h.data ?? null))));

describe('onboard-fleet on the sandbox', () => {
  it("joins the seed's PoC: ten servers, 80 GPUs verified, one message and no member's own", async () => {
    const { result, estate, input, stored } = await run(poc());
    expect(result.status).toBe('SUCCEEDED');
    const outcome = fleetOutcomeOf(result);
    expect(outcome?.status).toBe('joined');
    expect(outcome?.counts).toMatchObject({ servers: 10, joined: 10, failed: 0, gpusVerified: 80, gpusRequested: 80 });
    expect(outcome?.nodes.map((n) => [n.name, n.status, n.gpuAllocatable])).toEqual(
      Array.from({ length: 10 }, (_, i) => [`gpu-node-${String(i + 1).padStart(2, '0')}`, 'joined', 8]),
    );
    expect(result.children?.map((c) => c.status)).toEqual(Array(10).fill('SUCCEEDED'));
    expect(estate.outbox.map((m) => m.subject)).toEqual([`[OK] fleet ${input.fleetId}: 10 of 10 joined`]);
    expect(estate.outbox[0]?.message).toContain('GPUs verified: 80 of 80');
    // The result is in the store, and every member's single-use resources are gone.
    expect((stored(input.resultKey) as FleetSummary).counts.gpusVerified).toBe(80);
    expect(Object.keys(estate.state.parameters).filter((p) => p.includes('/onboarding/'))).toEqual([]);
    expect(Object.keys(estate.state.parameters).filter((p) => p.includes('/locks/'))).toEqual([]);
  });

  it('with gpu-node-07 never registering: nine join, it is cleaned up and named with its fix, FAILED', async () => {
    const { result, estate, input } = await run(poc(), 'never-registers:gpu-node-07');
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('FleetIncompleteError');
    expect(result.error?.cause).toContain('9 of 10 servers joined');
    expect(result.error?.cause).toContain('gpu-node-07 (RegistrationTimeoutError)');
    const seventh = input.members[6];
    const child = result.children?.find((c) => c.executionName === seventh?.requestId);
    expect(child?.status).toBe('FAILED');
    expect(child?.visited).toContain('CleanUpOnboarding');
    expect(child?.visited).not.toContain('NotifyFailure');
    expect(estate.outbox).toHaveLength(1);
    expect(estate.outbox[0]?.subject).toBe(`[CRITICAL] fleet ${input.fleetId}: 1 of 10 failed, 9 joined`);
    expect(estate.outbox[0]?.message).toMatch(
      /- gpu-node-07 \(request [^)]+\): RegistrationTimeoutError at WaitForRegistration: .*\n {2}Fix: /,
    );
    const left = Object.keys(estate.state.parameters).filter((p) => p.includes(seventh?.requestId ?? '-'));
    expect(left).toEqual([]);
    expect(
      Object.values(estate.state.activations).filter((a) => a.tags.some((t) => t.Value === seventh?.requestId)),
    ).toEqual([]);
  });

  it('with no device plugin on gpu-node-03: SUCCEEDED in the warning state naming it', async () => {
    const { result, estate, input } = await run(poc(), 'no-device-plugin:gpu-node-03');
    expect(result.status).toBe('SUCCEEDED');
    const outcome = fleetOutcomeOf(result);
    expect(outcome?.status).toBe('warning');
    expect(outcome?.counts).toMatchObject({ joined: 9, warning: 1, failed: 0, gpusVerified: 72, gpuVerified: 9 });
    expect(outcome?.nodes.find((n) => n.name === 'gpu-node-03')).toMatchObject({
      status: 'warning',
      gpuAllocatable: 0,
    });
    expect(estate.outbox.map((m) => m.subject)).toEqual([
      `[WARNING] fleet ${input.fleetId}: 10 joined, 1 with warnings`,
    ]);
    expect(estate.outbox[0]?.message).toMatch(
      /Joined with warnings:\n- gpu-node-03 \(mi-[0-9a-f]+\), 0 of 8 GPUs \(no device plugin\)/,
    );
  });

  it('keeps 100 servers far under 256 KiB of state, with transitions within 1.5x of the children', async () => {
    const body = JSON.parse(fleetBody(100)) as Record<string, unknown>;
    const { result } = await run(body);
    expect(result.status).toBe('SUCCEEDED');
    expect(fleetOutcomeOf(result)?.counts).toMatchObject({ joined: 100, gpusVerified: 800 });
    expect(largestState(result)).toBeLessThan(64 * 1024);
    const children = result.children ?? [];
    expect(children).toHaveLength(100);
    const childTransitions = children.reduce((sum, c) => sum + entered(c), 0);
    expect(entered(result) + childTransitions).toBeLessThanOrEqual(1.5 * childTransitions);
  }, 240_000);

  it('refuses an execution started without the input POST /fleets builds, starting nothing', async () => {
    const estate = withServices(SandboxEstate.inMemory());
    const local = { ...sandboxLocalRuntime(estate, home), estate };
    const { runWorkflow } = await import('#cli/runner');
    const result = await runWorkflow({
      workflow: 'onboard-fleet',
      input: { fleetId: 'fleet-x-0123456789ab', members: [] },
      runtime: local.runtime,
      estate,
      alertTopicArn: local.alertTopicArn,
    });
    expect(result.visited).toEqual(['CheckInput', 'InputRejected']);
    expect(result.error?.name).toBe('InvalidExecutionInputError');
    expect(estate.outbox).toEqual([]);
  });
});

describe('hybridops run onboard-fleet', () => {
  it('prints a line per server as it progresses, writes each NodeConfig 0600, and --json gives output.nodes', async () => {
    const text = cliIo();
    const code = await main(['run', 'onboard-fleet', '--input', EVENT], text.streams, { HYBRIDOPS_HOME: home });
    expect(code).toBe(0);
    expect(text.stdout()).toMatch(/gpu-node-04: waiting-for-registration/);
    expect(text.stdout()).toMatch(/SUCCEEDED: 10 of 10 servers joined, 0 failed; 80 of 80 GPUs verified/);
    const fleetId = /fleet (fleet-poc-fleet-1-[0-9a-f]{12})/.exec(text.stdout())?.[1];
    const file = join(home, 'out', fleetId ?? '-', 'gpu-node-10', 'nodeConfig.yaml');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const json = cliIo();
    const again = await main(
      ['run', 'onboard-fleet', '--input', EVENT, '--json', '--scenario', 'never-registers:gpu-node-07'],
      json.streams,
      { HYBRIDOPS_HOME: mkdtempSync(join(tmpdir(), 'hybridops-fleet-json-')) },
    );
    expect(again).toBe(1);
    const printed = JSON.parse(json.stdout()) as {
      output: {
        nodes: Array<{ name: string; nodeName: string | null; status: string; gpuAllocatable: number | null }>;
      };
    };
    expect(printed.output.nodes).toHaveLength(10);
    expect(printed.output.nodes[6]).toMatchObject({ name: 'gpu-node-07', status: 'failed', nodeName: null });
    expect(printed.output.nodes[0]).toMatchObject({ name: 'gpu-node-01', status: 'joined', gpuAllocatable: 8 });
    expect(printed.output.nodes[0]?.nodeName).toMatch(/^mi-/);
  }, 120_000);

  it('rejects a bad fleet with every problem, exit 2, starting nothing', async () => {
    const text = cliIo();
    const body = join(home, 'bad.json');
    const bad = poc();
    (bad.servers[3] as Record<string, unknown>).ip = '192.168.10.21';
    writeFileSync(body, JSON.stringify(bad));
    expect(await main(['run', 'onboard-fleet', '--input', body], text.streams, { HYBRIDOPS_HOME: home })).toBe(2);
    expect(text.stderr()).toContain("servers[3].ip: '192.168.10.21' is also servers[0].ip");
  });
});
