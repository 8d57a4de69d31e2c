import type * as z from 'zod';
import { type DesiredState, SweepSectionSchema } from '../desired-state/schema';

/** The nightly sweep's settings: the `sweep:` section of the stage's desired state, defaults filled in. */
export type SweepConfig = z.output<typeof SweepSectionSchema>;

/** The sweep's settings when a stage declares none. */
export const DEFAULT_SWEEP_CONFIG: SweepConfig = SweepSectionSchema.parse({});

/** The sweep's settings of a desired state. */
export const sweepConfigOf = (desired: DesiredState): SweepConfig => desired.sweep ?? DEFAULT_SWEEP_CONFIG;
