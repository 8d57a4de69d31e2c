import { SandboxEstate } from '#lib/sandbox/estate';
import { sandboxProber } from '#lib/sandbox/prober';
import { classifyLink, linkStats } from '#lib/sweep/connectivity';

const options = { samples: 20, intervalMs: 0, timeoutMs: 1000 };

describe('the sandbox prober answers from the seed link profiles', () => {
  const estate = SandboxEstate.inMemory();

  it('gives the seed its healthy DNS server and its DNS server with warning-level jitter', async () => {
    const healthy = linkStats(await sandboxProber(estate).tcpConnectSamples('192.168.1.53', 53, options));
    const jittery = linkStats(await sandboxProber(estate).tcpConnectSamples('192.168.1.54', 53, options));
    expect(healthy).toEqual({
      attempted: 20,
      failed: 0,
      latencyMs: 2.1,
      jitterMs: expect.closeTo(0.4, 10),
      lossPercent: 0,
    });
    expect(classifyLink(healthy).overall).toBe('target');
    expect(jittery.jitterMs).toBeCloseTo(3.4, 10);
    expect(classifyLink(jittery)).toMatchObject({ latency: 'target', jitter: 'warning', overall: 'warning' });
  });

  it('loses the profile share of samples, spread out', async () => {
    const lossy = SandboxEstate.inMemory();
    lossy.state.seed.onPrem.links = [{ host: 'h', latencyMs: 1, jitterMs: 0, lossPercent: 15 }];
    const samples = await sandboxProber(lossy).tcpConnectSamples('h', 2049, options);
    expect(samples.filter((s) => !s.ok)).toHaveLength(3);
    expect(linkStats(samples).lossPercent).toBe(15);
  });

  it('never answers for a host without a profile', async () => {
    const samples = await sandboxProber(estate).tcpConnectSamples('192.168.99.99', 10250, options);
    expect(samples.every((s) => !s.ok && s.error === 'ETIMEDOUT')).toBe(true);
  });
});
