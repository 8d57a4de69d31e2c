import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One TCP connect attempt: how long it took, or why it failed. */
export interface ProbeSample {
  ok: boolean;
  ms?: number;
  error?: string;
}

export interface ProbeOptions {
  samples: number;
  /** Pause between attempts, so samples spread over time (jitter is about change). */
  intervalMs: number;
  timeoutMs: number;
}

/** Measures a path with TCP connects: Lambda has no ICMP. Real sockets in Lambda, link profiles in the sandbox. */
export interface Prober {
  tcpConnectSamples(host: string, port: number, options: ProbeOptions): Promise<ProbeSample[]>;
}

/** Times one TCP connect (the three-way handshake) to host:port. */
export function tcpConnectOnce(host: string, port: number, timeoutMs: number): Promise<ProbeSample> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port });
    const done = (sample: ProbeSample) => {
      socket.destroy();
      resolve(sample);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, error: 'ETIMEDOUT' }));
    socket.once('connect', () => done({ ok: true, ms: performance.now() - started }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, error: error.code ?? error.message }));
  });
}

export const tcpProber: Prober = {
  async tcpConnectSamples(host, port, options) {
    const samples: ProbeSample[] = [];
    for (let i = 0; i < options.samples; i += 1) {
      if (i > 0) await sleep(options.intervalMs);
      samples.push(await tcpConnectOnce(host, port, options.timeoutMs));
    }
    return samples;
  },
};
