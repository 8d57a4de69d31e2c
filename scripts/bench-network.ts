import type { DesiredState } from '#lib/desired-state/schema';
import { applyNetworkPlan } from '#lib/network/apply';
import { START } from '#lib/network/run-store';
import { planAll, planResolver } from '#lib/network/planning';
import { newRunId } from '#lib/run-id';
import { s3Store } from '#lib/store';
import { sandboxStoreBucket } from '#lib/sandbox/services/s3';
import { SandboxEstate, withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed } from '#lib/sandbox/estate';

/**
 * The reconciler at scale on the sandbox: 1,000 forwarding rules in the account, 50 VPCs. The
 * stage declares 20 domains, each to be associated with all 50 VPCs (1,000 associations); 50 of
 * those associations are missing and 5 rules have a wrong target. Measures planning (wall time,
 * AWS calls) and applying, against the lower bound: the pages the lists need, the tags of the
 * candidate rules, the cluster reads, one call per change, and one look at each change AWS
 * makes asynchronously (an association is CREATING, an updated rule UPDATING, then COMPLETE).
 * The run store's own objects are counted apart.
 */
export async function networkBench(runs: number) {
  const RULES = 1000;
  const VPCS = Array.from({ length: 50 }, (_, i) => `vpc-0${String(i).padStart(16, '0')}`);
  const DECLARED = 20;
  const owner = 'eks-hybrid-ops/bench/gpu-hybrid-cluster';
  const seed = loadSeed(DEFAULT_SEED);
  const domain = (i: number) => `zone${i}.company.local`;
  seed.network.resolverRules = Array.from({ length: RULES }, (_, i) => ({
    id: `rslvr-rr-${String(i).padStart(17, '0')}`,
    name: `rule-${i}`,
    domain: domain(i),
    ruleType: 'FORWARD' as const,
    endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
    targets: [{ ip: i < 5 ? '192.168.1.99' : '192.168.1.53', port: 53 }],
    creatorRequestId: i < DECLARED ? `hybridops-bench-${i}` : `someone-${i}`,
    tags: i < DECLARED ? [{ Key: 'hybridops:managed-by', Value: owner }] : [],
    vpcs: i < DECLARED ? [] : [VPCS[i % VPCS.length] as string],
  }));
  // 50 missing associations: rules 0-19 each lack VPC 0 (20), rules 0-9 also lack VPC 1 (10),
  // rules 0-19 lack VPC 2 (20).
  for (const [i, rule] of seed.network.resolverRules.slice(0, DECLARED).entries()) {
    rule.vpcs = VPCS.filter((v, n) => !(n === 0 || n === 2 || (n === 1 && i < 10)));
  }
  const desired: DesiredState = {
    version: 1,
    clusters: [
      {
        name: 'gpu-hybrid-cluster',
        dns: {
          outbound: {
            endpointId: 'rslvr-out-0a1b2c3d4e5f60718',
            rules: Array.from({ length: DECLARED }, (_, i) => ({
              domain: domain(i),
              targets: [{ ip: '192.168.1.53', port: 53 }],
              vpcs: VPCS,
            })),
          },
        },
      },
    ],
  };
  const ctx = { owner: 'eks-hybrid-ops/bench', parameterPrefix: '/eks-hybrid-ops/bench' };
  const associations = seed.network.resolverRules.reduce((n, r) => n + r.vpcs.length, 0);
  const results: Array<{
    planMs: number;
    planCalls: number;
    applyCalls: number;
    storeCalls: number;
    changes: number;
    replan: number;
  }> = [];
  const aws = (estate: SandboxEstate) => estate.calls.filter((c) => c.service !== 's3').length;
  for (let run = 0; run < runs; run += 1) {
    const estate = withServices(SandboxEstate.inMemory(structuredClone(seed)));
    const clients = estate.clients();
    const store = s3Store(clients.s3, sandboxStoreBucket(seed.account));
    const runId = newRunId(new Date());
    const started = performance.now();
    const ref = await planResolver({ clients, ctx, store }, { runId, desired });
    const planMs = performance.now() - started;
    const planCalls = aws(estate);
    // The apply step as the state machine loops it; a Wait moves the sandbox clock.
    let progress = START;
    while (progress.next !== 'done') {
      if (progress.next === 'wait') estate.advance(progress.waitSeconds);
      progress = await applyNetworkPlan({ clients, ctx, store }, { runId, plans: [ref], progress });
    }
    const applyCalls = aws(estate) - planCalls;
    const storeCalls = estate.calls.length - aws(estate);
    const replan = (await planAll(clients, ctx, desired, ['resolver'])).actions.length;
    results.push({ planMs, planCalls, applyCalls, storeCalls, changes: ref.actions, replan });
  }
  // Lower bound for the plan: DescribeCluster + DescribeVpcs, the pages of the two lists (100 a
  // page), and one tag read per rule that could be ours (the declared domains).
  const lowerPlan = 2 + Math.ceil(RULES / 100) + Math.ceil(associations / 100) + DECLARED;
  // Lower bound for the apply: one call per change, and one look at each change AWS makes
  // asynchronously: the associations it made (CREATING) and the rules it updated (UPDATING).
  const missing = 50;
  const retargeted = 5;
  const lowerApply = (results[0]?.changes ?? 0) + missing + retargeted;
  return { rules: RULES, vpcs: VPCS.length, associations, declared: DECLARED, lowerPlan, lowerApply, results };
}
