import type { ProbeSample, Prober } from '../net/probe';
import type { SandboxEstate } from './estate';
import { faultedSamples } from './faults';

/**
 * TCP probes as the sandbox's on-prem links answer them, from the seed's link profiles, with no
 * socket and no sleeping. Samples alternate around the profile's latency by half its jitter (so
 * their median is the latency and the mean change between samples the jitter), and the profile's
 * share of them is lost, spread evenly. A host with no profile never answers.
 */
export function sandboxProber(estate: SandboxEstate): Prober {
  // Indexed once per list of links (the seed's, or one a test swapped in): thousands of targets.
  const index = new WeakMap<object, Map<string, SandboxEstate['seed']['onPrem']['links'][number]>>();
  const linkOf = (host: string) => {
    const links = estate.seed.onPrem.links;
    let byHost = index.get(links);
    if (!byHost || byHost.size !== links.length) {
      byHost = new Map(links.map((l) => [l.host, l]));
      index.set(links, byHost);
    }
    return byHost.get(host);
  };
  return {
    async tcpConnectSamples(host, port, options) {
      estate.record('probe', `TcpConnect:${port}`);
      const fault = estate.faultOn('probe:tcp');
      if (fault) return faultedSamples(fault, options.samples);
      const link = linkOf(host);
      if (!link) return Array.from({ length: options.samples }, (): ProbeSample => ({ ok: false, error: 'ETIMEDOUT' }));
      const lost = Math.round((options.samples * link.lossPercent) / 100);
      const every = lost ? options.samples / lost : Number.POSITIVE_INFINITY;
      let kept = 0;
      return Array.from({ length: options.samples }, (_, i): ProbeSample => {
        if (lost && Math.floor(i % every) === 0 && i / every < lost) return { ok: false, error: 'ETIMEDOUT' };
        const ms = link.latencyMs + (kept++ % 2 === 0 ? -1 : 1) * (link.jitterMs / 2);
        return { ok: true, ms: Math.max(0, ms) };
      });
    },
  };
}
