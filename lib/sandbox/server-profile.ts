import { createHash } from 'node:crypto';
import type { EstateSeed } from './seed';
import type { SandboxActivation } from './state';

/**
 * What a simulated server is when it is handed its NodeConfig: the seed's description of it
 * (`onPrem.servers`), or, for a server the seed does not name, what its onboarding request
 * described, as far as the server can know it from what it was handed (the activation and the
 * NodeConfig).
 */
export interface ServerProfile {
  ip: string;
  platform: string;
  platformVersion: string;
  vcpus: number;
  gpus: number;
  /** Seconds added to each of its scenario's join timings (see {@link timelineOffsetSeconds}). */
  timelineOffsetSeconds: number;
}

/** The NodeConfig label onboarding sets to the requested GPU count (lib/onboarding/node-config.ts nodeLabels). */
const GPU_COUNT_LABEL = 'gpu-count';
/**
 * vCPUs per GPU of a server the seed does not name: an 8-GPU H100 server (NVIDIA DGX H100 and
 * most HGX H100 boards) has two 56-core Xeon Platinum 8480C, 224 hardware threads, the seed's PoC
 * servers' 224 for 8 GPUs. A server with no GPU, or a small one, gets 32 (what the sandbox gave
 * every unnamed server before): a common two-socket CPU server.
 */
const VCPUS_PER_GPU = 28;
const MIN_VCPUS = 32;
/** The spread of unnamed servers' timelines: 0 to this many seconds, by name. */
export const MAX_TIMELINE_OFFSET_SECONDS = 40;

export function serverProfile(
  seed: EstateSeed,
  nodeName: string,
  activation: SandboxActivation | undefined,
  labels: Record<string, string>,
): ServerProfile {
  const named = seed.onPrem.servers.find((s) => s.name === nodeName);
  if (named) {
    const { name: _name, ...profile } = named;
    return profile;
  }
  // The host really has the GPUs its NodeConfig's gpu-count label says: the team asked for what
  // the server holds. (A host with fewer is a scenario's doing, after the join.)
  const gpus = /^\d+$/.test(labels[GPU_COUNT_LABEL] ?? '') ? Number(labels[GPU_COUNT_LABEL]) : 0;
  return {
    // SSM reports the address the agent registers from: the one the request gave (the activation's tag).
    ip: activation?.tags.find((t) => t.Key === 'hybridops:node-ip')?.Value ?? '192.168.0.10',
    // The request's node.os is in nothing the server is handed (NodeConfig, nodeadm commands,
    // activation tags), so an unnamed server runs the OS most hybrid nodes run.
    platform: 'Ubuntu',
    platformVersion: '22.04',
    vcpus: Math.max(MIN_VCPUS, gpus * VCPUS_PER_GPU),
    gpus,
    timelineOffsetSeconds: timelineOffsetSeconds(nodeName),
  };
}

/**
 * A server's own pace, 0 to {@link MAX_TIMELINE_OFFSET_SECONDS} seconds, from a hash of its name
 * (deterministic: the same server is as slow in every run). Real servers of one fleet do not join
 * in step: package downloads, disks and links differ, so each phase of the join takes a while
 * longer on some than on others.
 */
export function timelineOffsetSeconds(nodeName: string): number {
  const hash = createHash('sha256').update(nodeName).digest();
  return hash.readUInt32BE(0) % (MAX_TIMELINE_OFFSET_SECONDS + 1);
}

/** A scenario's join timing (null: never) as this server takes it: at its own pace. */
export function pacedSeconds(seconds: number | null, server: { timelineOffsetSeconds?: number }): number | null {
  return seconds === null ? null : seconds + (server.timelineOffsetSeconds ?? 0);
}
