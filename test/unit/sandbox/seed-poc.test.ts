import { DEFAULT_SEED, loadSeed } from '#lib/sandbox/estate';

/** The default seed holds the adoption guide's PoC fleet, so `hybridops run onboard-fleet` can onboard it. */

it('has the PoC servers gpu-node-01..10 at 192.168.10.21..30: Ubuntu 22.04, 224 vCPU, 8 GPUs each', () => {
  const servers = loadSeed(DEFAULT_SEED).onPrem.servers.filter((s) => /^gpu-node-(0\d|10)$/.test(s.name));

  expect(servers.map((s) => [s.name, s.ip, s.platform, s.platformVersion, s.vcpus, s.gpus])).toEqual(
    Array.from({ length: 10 }, (_, i) => [
      `gpu-node-${String(i + 1).padStart(2, '0')}`,
      `192.168.10.${21 + i}`,
      'Ubuntu',
      '22.04',
      224,
      8,
    ]),
  );
});

it('paces the PoC servers apart: gpu-node-01 on the scenario timings, gpu-node-02..10 each its own small offset', () => {
  const servers = loadSeed(DEFAULT_SEED).onPrem.servers.filter((s) => /^gpu-node-(0\d|10)$/.test(s.name));
  const offsets = servers.map((s) => s.timelineOffsetSeconds);

  expect(offsets[0]).toBe(0);
  expect(new Set(offsets).size).toBe(10);
  expect(Math.max(...offsets)).toBeLessThanOrEqual(30);
});
