import { ManualClock } from '#lib/clock';
import { DrainBlockedError, NodeNotFoundError, NotHybridNodeError } from '#lib/errors';
import { cordonNode, uncordonNode } from '#lib/node-lifecycle/cordon';
import { drainNode, STILL_TERMINATING } from '#lib/node-lifecycle/drain';
import { MAX_LISTED_PODS } from '#lib/node-lifecycle/state';
import { CLUSTER, fakeKube, hybridNode, pod } from '#test/helpers/fake-kube';

const NODE = 'mi-0123456789abcdef0';
const PDB_REFUSAL =
  "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget web-pdb needs 2 healthy pods and has 2 currently";
const input = { cluster: CLUSTER, nodeName: NODE };

describe('cordonNode', () => {
  it('cordons a schedulable hybrid node and says it was not cordoned before', async () => {
    const kube = fakeKube([hybridNode(NODE)]);

    await expect(cordonNode({ nodes: kube.factory }, input)).resolves.toEqual({ wasCordoned: false });

    expect(kube.nodes[0]?.unschedulable).toBe(true);
    expect(kube.clusters).toEqual([CLUSTER]);
  });

  it('leaves a node cordoned by someone else as it is, and says so', async () => {
    const kube = fakeKube([hybridNode(NODE, { unschedulable: true })]);

    await expect(cordonNode({ nodes: kube.factory }, input)).resolves.toEqual({ wasCordoned: true });

    expect(kube.calls).toEqual([`get ${NODE}`]);
  });

  it('refuses a Node that is not there', async () => {
    const kube = fakeKube([]);

    await expect(cordonNode({ nodes: kube.factory }, input)).rejects.toThrow(NodeNotFoundError);
  });

  it('refuses a Node that is not a hybrid node, changing nothing', async () => {
    const kube = fakeKube([hybridNode(NODE, { labels: { 'eks.amazonaws.com/compute-type': 'auto' } })]);

    const attempt = cordonNode({ nodes: kube.factory }, input);

    await expect(attempt).rejects.toThrow(NotHybridNodeError);
    await expect(attempt).rejects.toThrow('is not a hybrid node (eks.amazonaws.com/compute-type is "auto")');
    expect(kube.calls).toEqual([`get ${NODE}`]);
  });
});

describe('uncordonNode', () => {
  it('makes the node schedulable again', async () => {
    const kube = fakeKube([hybridNode(NODE, { unschedulable: true })]);

    await expect(uncordonNode({ nodes: kube.factory }, input)).resolves.toEqual({ uncordoned: true });

    expect(kube.nodes[0]?.unschedulable).toBe(false);
  });

  it('says false when the Node is gone', async () => {
    await expect(uncordonNode({ nodes: fakeKube([]).factory }, input)).resolves.toEqual({ uncordoned: false });
  });
});

describe('drainNode', () => {
  const clock = () => new ManualClock('2026-11-22T00:00:00Z');
  const drain = (kube: ReturnType<typeof fakeKube>, at: ManualClock, force = false) =>
    drainNode({ nodes: kube.factory, clock: at }, { ...input, deadline: '2026-11-22T00:10:00Z', force });

  it('evicts every pod but DaemonSet and mirror pods, then is done once the evicted ones are gone', async () => {
    const kube = fakeKube(
      [hybridNode(NODE, { unschedulable: true })],
      [
        pod('web-1'),
        pod('cilium-x', { namespace: 'kube-system', controller: { kind: 'DaemonSet', name: 'cilium' } }),
        pod('kube-proxy-static', { namespace: 'kube-system', controller: { kind: 'Node', name: NODE }, mirror: true }),
        pod('job-1', { phase: 'Succeeded', controller: { kind: 'Job', name: 'job' } }),
        pod('bare', { controller: undefined }),
      ],
    );
    const at = clock();

    const first = await drain(kube, at);

    expect(first).toEqual({
      done: false,
      evicting: [
        { namespace: 'default', name: 'web-1' },
        { namespace: 'default', name: 'job-1' },
        { namespace: 'default', name: 'bare' },
      ],
      blocked: [],
      forced: [],
      skipped: { daemonSet: 1, mirror: 1 },
      counts: { evicting: 3, blocked: 0, forced: 0 },
    });
    expect(kube.calls.filter((c) => c.startsWith('evict'))).toEqual([
      'evict default/web-1',
      'evict default/job-1',
      'evict default/bare',
    ]);

    // Terminating: waited for, not evicted again.
    at.advance(10);
    const second = await drain(kube, at);
    expect(second.done).toBe(false);
    expect(second.counts.evicting).toBe(3);
    expect(kube.calls.filter((c) => c.startsWith('evict'))).toHaveLength(3);

    kube.finishTerminating();
    at.advance(10);
    await expect(drain(kube, at)).resolves.toMatchObject({
      done: true,
      evicting: [],
      skipped: { daemonSet: 1, mirror: 1 },
    });
  });

  it('asks again for an eviction a PodDisruptionBudget refused, until the budget allows it', async () => {
    const kube = fakeKube([hybridNode(NODE)], [pod('web-1', { evictable: PDB_REFUSAL })]);
    const at = clock();

    const first = await drain(kube, at);
    expect(first).toMatchObject({
      done: false,
      blocked: [{ namespace: 'default', name: 'web-1', reason: PDB_REFUSAL }],
      forced: [],
    });

    const web = kube.pods[0];
    if (web) web.evictable = true; // another replica became ready
    at.advance(30);
    await expect(drain(kube, at)).resolves.toMatchObject({ done: false, evicting: [{ name: 'web-1' }], blocked: [] });
    expect(kube.calls.filter((c) => c.startsWith('evict'))).toEqual(['evict default/web-1', 'evict default/web-1']);
  });

  it('past the deadline without force, fails naming the blocking pods and the fix', async () => {
    const kube = fakeKube(
      [hybridNode(NODE)],
      [pod('web-1', { evictable: PDB_REFUSAL }), pod('db-0', { namespace: 'data', evictable: PDB_REFUSAL })],
    );
    const at = clock();
    at.advance(601);

    const attempt = drain(kube, at);

    await expect(attempt).rejects.toThrow(DrainBlockedError);
    await expect(attempt).rejects.toThrow(
      `Draining Node ${NODE} in gpu-hybrid-cluster passed its deadline 2026-11-22T00:10:00Z with 2 pod(s) that would not leave: default/web-1 (${PDB_REFUSAL}); data/db-0 (${PDB_REFUSAL}).`,
    );
    await expect(attempt).rejects.toThrow(
      /Fix: Let the PodDisruptionBudget allow a disruption .*or run again with force: true/,
    );
    expect(kube.calls.some((c) => c.startsWith('delete pod'))).toBe(false);
  });

  it('names the first 10 blocking pods and counts the rest', async () => {
    const pods = Array.from({ length: 13 }, (_, i) => pod(`web-${i}`, { evictable: PDB_REFUSAL }));
    const kube = fakeKube([hybridNode(NODE)], pods);
    const at = clock();
    at.advance(601);

    const error = await drain(kube, at).catch((e: Error) => e);

    expect(error).toBeInstanceOf(DrainBlockedError);
    expect((error as Error).message).toContain('default/web-9 (');
    expect((error as Error).message).not.toContain('default/web-10 (');
    expect((error as Error).message).toContain(', and 3 more.');
  });

  it('past the deadline with force, deletes the refused pods past their budgets and goes on', async () => {
    const kube = fakeKube(
      [hybridNode(NODE)],
      [
        pod('web-1', { evictable: PDB_REFUSAL }),
        pod('api-1'),
        pod('cilium-x', { controller: { kind: 'DaemonSet', name: 'cilium' } }),
      ],
    );
    const at = clock();
    at.advance(601);

    const pass = await drain(kube, at, true);

    expect(pass).toMatchObject({
      done: false,
      evicting: [{ name: 'api-1' }],
      blocked: [],
      forced: [{ namespace: 'default', name: 'web-1' }],
      counts: { evicting: 1, blocked: 0, forced: 1 },
    });
    expect(kube.calls).toContain('delete pod default/web-1');
    expect(kube.calls).not.toContain('delete pod default/cilium-x');
    kube.finishTerminating();
    await expect(drain(kube, at, true)).resolves.toMatchObject({ done: true, skipped: { daemonSet: 1, mirror: 0 } });
  });

  it('before the deadline, force changes nothing: refused evictions are asked again', async () => {
    const kube = fakeKube([hybridNode(NODE)], [pod('web-1', { evictable: PDB_REFUSAL })]);

    await expect(drain(kube, clock(), true)).resolves.toMatchObject({
      done: false,
      forced: [],
      blocked: [{ name: 'web-1' }],
    });
    expect(kube.calls.some((c) => c.startsWith('delete pod'))).toBe(false);
  });

  it('past the deadline, a pod still terminating blocks the drain like a refused one', async () => {
    const kube = fakeKube([hybridNode(NODE)], [pod('stuck', { terminating: true })]);
    const at = clock();
    at.advance(601);

    await expect(drain(kube, at)).rejects.toThrow(`default/stuck (${STILL_TERMINATING})`);
    await expect(drain(kube, at, true)).resolves.toMatchObject({ forced: [{ name: 'stuck' }], done: false });
  });

  it('lists at most 50 pods per list, and counts them all', async () => {
    const pods = Array.from({ length: MAX_LISTED_PODS + 7 }, (_, i) => pod(`web-${i}`));
    const kube = fakeKube([hybridNode(NODE)], pods, 500);

    const pass = await drain(kube, clock());

    expect(pass.evicting).toHaveLength(MAX_LISTED_PODS);
    expect(pass.counts.evicting).toBe(MAX_LISTED_PODS + 7);
  });

  it('refuses a Node that is gone or not hybrid before touching any pod', async () => {
    const gone = fakeKube([], [pod('web-1')]);
    await expect(drain(gone, clock())).rejects.toThrow(NodeNotFoundError);
    const other = fakeKube([hybridNode(NODE, { labels: {} })], [pod('web-1')]);
    await expect(drain(other, clock())).rejects.toThrow(NotHybridNodeError);
    expect([...gone.calls, ...other.calls].filter((c) => !c.startsWith('get'))).toEqual([]);
  });
});
