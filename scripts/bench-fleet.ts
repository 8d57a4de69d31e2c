/**
 * The fleet benchmark (part of `npm run bench`): the onboard-fleet workflow on a fresh sandbox
 * estate, the seed's 10-server PoC and a 100-server fleet: wall time, state transitions (the
 * fleet's and its children's), AWS calls against their lower bound, and the largest state.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareAndRun } from '#cli/local-run';
import { sandboxLocalRuntime } from '#cli/local-runtime';
import type { RunResult } from '#cli/runner';
import { PROJECT_ROOT } from '#cli/serverless-config';
import { fleetOutcomeOf, onboardFleet } from '#cli/workflows/onboard-fleet';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';

export interface FleetFigures {
  servers: number;
  status: string;
  headline: string;
  wallMs: number;
  /** States entered by the fleet's own execution, and by all its children together. */
  fleetTransitions: number;
  childTransitions: number;
  /** The largest state any state of the fleet's execution passed on, and of any child's. */
  fleetMaxStateBytes: number;
  childMaxStateBytes: number;
  awsCalls: number;
  lowerBound: number;
  calls: Record<string, number>;
}

/** A server of a fleet larger than the PoC: gpu-fleet-001.., on the seed's network plan. */
const fleetServer = (i: number) => ({
  name: `gpu-fleet-${String(i + 1).padStart(3, '0')}`,
  ip: `192.168.20.${i + 1}`,
});

/** The PoC's body, or one of `n` servers (gpu-fleet-001..) on the seed's network plan. */
export function fleetBody(n: number): string {
  const poc = readFileSync(join(PROJECT_ROOT, 'events', 'onboard-fleet.json'), 'utf8');
  if (n === 10) return poc;
  const body = JSON.parse(poc) as Record<string, unknown>;
  body.clientToken = `bench-${n}`;
  body.maxConcurrency = 40;
  body.servers = Array.from({ length: n }, (_, i) => ({
    ...fleetServer(i),
    os: 'ubuntu-22.04',
    podCidr: `10.244.${100 + i}.0/24`,
  }));
  return JSON.stringify(body);
}

const stateBytes = (result: RunResult) =>
  Math.max(0, ...result.history.map((h) => Buffer.byteLength(JSON.stringify(h.data ?? null))));
const entered = (result: RunResult) => result.history.filter((e) => e.type === 'StateEntered').length;

/**
 * The fewest AWS calls a fleet of `n` servers that all join at the first look can make: POST
 * /fleets' checks (DescribeCluster, DescribeVpcs, SSM's tier and one page of its instances, the
 * locks 10 a call) and its manifest; per server PrepareMember's read, the integration's
 * StartExecution and its DescribeExecution of the ended child, and onboard-node's own floor
 * without its message (preflight 5, activation 3, NodeConfig 2, the team's fetch 1, one poll,
 * finish 5); then the summary's manifest read and result write, and one Publish.
 */
export const fleetLowerBound = (n: number) => 2 + 2 + Math.ceil(n / 10) + 1 + n * (1 + 2 + 17) + 2 + 1;

export async function fleetBench(sizes: number[]): Promise<FleetFigures[]> {
  const figures: FleetFigures[] = [];
  for (const n of sizes) {
    // A server the seed does not name has the GPUs it asks for (lib/sandbox/on-prem.ts).
    const estate = withServices(SandboxEstate.inMemory());
    estate.state.scenario = 'joins';
    const local = sandboxLocalRuntime(estate, join(PROJECT_ROOT, '.hybridops', 'bench'));
    const started = Date.now();
    const { result } = await prepareAndRun(onboardFleet, { ...local, estate }, fleetBody(n));
    const wallMs = Date.now() - started;
    const children = result.children ?? [];
    const calls: Record<string, number> = {};
    for (const c of estate.calls) {
      if (c.service === 'kubernetes') continue;
      const name = `${c.service}:${c.command}`;
      calls[name] = (calls[name] ?? 0) + 1;
    }
    const outcome = fleetOutcomeOf(result);
    figures.push({
      servers: n,
      status: result.status,
      headline: outcome?.headline ?? `${result.error?.name}: ${result.error?.cause}`,
      wallMs,
      fleetTransitions: entered(result),
      childTransitions: children.reduce((sum, c) => sum + entered(c), 0),
      fleetMaxStateBytes: stateBytes(result),
      childMaxStateBytes: Math.max(0, ...children.map(stateBytes)),
      awsCalls: Object.values(calls).reduce((a, b) => a + b, 0),
      lowerBound: fleetLowerBound(n),
      calls,
    });
  }
  return figures;
}
