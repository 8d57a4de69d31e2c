import * as z from 'zod';
import type { OnboardingBrief } from '../onboarding/finish';
import { GPU_VERDICTS } from '../onboarding/gpu-verification';
import type { OnboardingInput } from '../onboarding/state';

/**
 * The onboard-fleet workflow's data. The execution input holds ids and names only; each member's
 * full onboard-node input is in the manifest in the run store, read by PrepareMember, so the
 * fleet's state stays small at 100 servers.
 */

/** A fleet id: `fleet-<slug>-<hash12>`, also the execution's name (at most 63 of [a-z0-9-]). */
export const FLEET_ID = /^fleet-[a-z0-9][-a-z0-9]{0,56}$/;

/** Where a fleet keeps what is not in its state (the run store; serverless.yml's lifecycle rule `expire-fleets`). */
export const fleetKeys = (fleetId: string) => ({
  manifest: `fleets/${fleetId}/manifest.json`,
  result: `fleets/${fleetId}/result.json`,
});

/** Which fleet an onboarding belongs to (`index` from 0); with it onboard-node sends no message of its own. */
export interface FleetMembership {
  fleetId: string;
  index: number;
}

/** A member's onboard-node input: the single onboarding's, with its fleet. */
export type MemberInput = OnboardingInput & { fleet: FleetMembership };

export const FleetMemberRefSchema = z.object({
  index: z.number().int().min(0),
  name: z.string().min(1),
  requestId: z.string().min(1),
});
export type FleetMemberRef = z.infer<typeof FleetMemberRefSchema>;

/** The manifest: each member's full onboard-node input, written by POST /fleets before the execution starts. */
export interface FleetManifest {
  fleetId: string;
  requestDigest: string;
  requester: string;
  cluster: string;
  members: Array<FleetMemberRef & { input: MemberInput }>;
}

/** The onboard-fleet execution's input. */
export const FleetInputSchema = z.object({
  fleetId: z.string().regex(FLEET_ID),
  requester: z.string().min(1),
  requestDigest: z.string().min(1),
  cluster: z.string().min(1),
  manifestKey: z.string().min(1),
  resultKey: z.string().min(1),
  maxConcurrency: z.number().int().min(1).max(40),
  members: z.array(FleetMemberRefSchema).min(1).max(100),
});
export type FleetInput = z.infer<typeof FleetInputSchema>;

/** What a finished onboarding tells its fleet (onboard-node's `brief`, lib/onboarding/finish.ts). */
export const BriefSchema = z.object({
  status: z.enum(['joined', 'warning']),
  nodeName: z.string(),
  instanceId: z.string(),
  gpuAllocatable: z.number().nullable(),
  gpuVerdict: z.enum(GPU_VERDICTS).nullable(),
  warnings: z.array(z.string()),
}) satisfies z.ZodType<OnboardingBrief>;
export type Brief = z.infer<typeof BriefSchema>;

/** One Map iteration's result: the child's brief, or how it failed. */
export const MemberResultSchema = z.union([
  z.object({
    name: z.string(),
    requestId: z.string(),
    status: z.literal('SUCCEEDED'),
    brief: BriefSchema,
  }),
  z.object({
    name: z.string(),
    requestId: z.string(),
    status: z.literal('FAILED'),
    error: z.string(),
    cause: z.string().optional(),
  }),
]);
export type MemberResult = z.infer<typeof MemberResultSchema>;
