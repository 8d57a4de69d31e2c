import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tcpConnectOnce, tcpProber } from '#lib/net/probe';
import { classify, classifyLink, connectivityFinding, LINK_THRESHOLDS, linkStats } from '#lib/sweep/connectivity';
import { slowListener } from '#test/helpers/slow-listener';

/** Real sockets on loopback: a listener that answers, and a port nothing listens on. */

let server: Server;
let port: number;
let closedPort: number;

beforeAll(async () => {
  server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  // A port that was just free: listen, note it, close.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('TCP connect probes on loopback', () => {
  it('times a connect to a listener that answers', async () => {
    const sample = await tcpConnectOnce('127.0.0.1', port, 1000);
    expect(sample.ok).toBe(true);
    expect(sample.ms).toBeGreaterThan(0);
  });

  it('measures a listener that answers late: about the SYN retransmission time, a critical latency', async () => {
    const slow = await slowListener();
    try {
      const pending = tcpConnectOnce('127.0.0.1', slow.port, 5000);
      setTimeout(() => slow.release(), 200);
      const sample = await pending;
      expect(sample.ok).toBe(true);
      expect(sample.ms).toBeGreaterThanOrEqual(900); // the kernel's initial SYN RTO is 1 s
      const stats = linkStats([sample]);
      expect(classifyLink(stats).latency).toBe('critical');
    } finally {
      slow.close();
    }
  });

  it('reports a refused connect on a closed port', async () => {
    await expect(tcpConnectOnce('127.0.0.1', closedPort, 1000)).resolves.toEqual({ ok: false, error: 'ECONNREFUSED' });
  });

  it('takes N spaced samples, and a loopback listener is on target for latency and loss', async () => {
    const samples = await tcpProber.tcpConnectSamples('127.0.0.1', port, {
      samples: 5,
      intervalMs: 5,
      timeoutMs: 1000,
    });
    expect(samples).toHaveLength(5);
    const stats = linkStats(samples);
    expect(stats).toMatchObject({ attempted: 5, failed: 0, lossPercent: 0 });
    expect(classifyLink(stats).loss).toBe('target');
  });

  it('counts every refused connect as loss, and a path with no answer is critical', async () => {
    const samples = await tcpProber.tcpConnectSamples('127.0.0.1', closedPort, {
      samples: 3,
      intervalMs: 1,
      timeoutMs: 500,
    });
    const stats = linkStats(samples);
    expect(stats).toEqual({ attempted: 3, failed: 3, latencyMs: undefined, jitterMs: undefined, lossPercent: 100 });
    expect(classifyLink(stats)).toEqual({
      latency: 'critical',
      jitter: 'critical',
      loss: 'critical',
      overall: 'critical',
    });
  });
});

describe('link statistics', () => {
  const ok = (ms: number) => ({ ok: true, ms });
  const lost = { ok: false, error: 'ETIMEDOUT' };

  it('takes the median latency, the mean absolute difference of consecutive samples as jitter, and loss', () => {
    const stats = linkStats([ok(4), ok(6), lost, ok(5), ok(9)]);
    expect(stats.latencyMs).toBe(5.5); // median of 4, 5, 6, 9
    expect(stats.jitterMs).toBe((2 + 1 + 4) / 3); // |6-4|, |5-6|, |9-5|
    expect(stats.lossPercent).toBe(20);
  });

  it('pins the seed thresholds', () => {
    expect(LINK_THRESHOLDS).toEqual({
      latencyMs: { target: 5, critical: 10 },
      jitterMs: { target: 2, critical: 5 },
      lossPercent: { target: 0.01, critical: 0.1 },
    });
  });

  it.each([
    [4.99, 'target'],
    [5, 'warning'],
    [10, 'warning'],
    [10.01, 'critical'],
  ])('classifies a latency of %p ms as %p', (ms, expected) => {
    expect(classify(ms, LINK_THRESHOLDS.latencyMs)).toBe(expected);
  });

  it.each([
    [1.9, 'target'],
    [3, 'warning'],
    [5.5, 'critical'],
  ])('classifies a jitter of %p ms as %p', (ms, expected) => {
    expect(classify(ms, LINK_THRESHOLDS.jitterMs)).toBe(expected);
  });

  it.each([
    [0, 'target'],
    [0.05, 'warning'],
    [0.2, 'critical'],
  ])('classifies a loss of %p %% as %p', (pct, expected) => {
    expect(classify(pct, LINK_THRESHOLDS.lossPercent)).toBe(expected);
  });

  it('rates a link by its worst metric', () => {
    expect(classifyLink({ attempted: 20, failed: 0, latencyMs: 1, jitterMs: 3, lossPercent: 0 }).overall).toBe(
      'warning',
    );
  });
});

describe('connectivityFinding', () => {
  const target = {
    cluster: 'gpu-hybrid-cluster',
    kind: 'dns' as const,
    host: '192.168.1.53',
    port: 53,
    name: 'on-prem DNS 1',
  };

  it('says nothing about a path on target', () => {
    expect(
      connectivityFinding(target, { attempted: 20, failed: 0, latencyMs: 1.2, jitterMs: 0.3, lossPercent: 0 }),
    ).toBeUndefined();
  });

  it('names the metric off target, with the numbers as evidence and the fix', () => {
    const finding = connectivityFinding(target, {
      attempted: 20,
      failed: 0,
      latencyMs: 3.1,
      jitterMs: 3.4,
      lossPercent: 0,
    });
    expect(finding).toEqual({
      id: 'connectivity:dns:192.168.1.53:53',
      check: 'connectivity',
      severity: 'warning',
      cluster: 'gpu-hybrid-cluster',
      resource: 'on-prem DNS 1 (192.168.1.53:53)',
      message: 'dns path to on-prem DNS 1 is warning on jitter.',
      evidence: 'latency 3.10 ms (target), jitter 3.40 ms (warning), loss 0.00 % (target) over 20 TCP connects',
      fix: expect.stringContaining('TCP/UDP 53'),
    });
  });
});
