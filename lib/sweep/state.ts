import * as z from 'zod';
import { CHECKS } from './findings';
import { CaughtErrorSchema } from '../caught-error';
import { RUN_ID } from '../run-id';

/** The shapes the nightly-sweep state machine passes between its Tasks (what each handler accepts). */

export const SweepIdSchema = z
  .string({ error: 'sweepId is required' })
  .regex(RUN_ID, 'sweepId must be the id the SweepInventory step returned, e.g. 20261122T180000Z-a1b2c3');

export const CheckPartSchema = z.object({
  key: z.string().min(1),
  findings: z.number().int().min(0),
  summary: z.record(z.string(), z.unknown()).optional(),
});

const PartOrFailure = z.union([CheckPartSchema, z.object({ failed: CaughtErrorSchema })]);

/** A branch's outcome; the connectivity branch hands its DNS part beside its probe batches. */
export const CheckOutcomeSchema = z
  .object({
    check: z.enum(CHECKS),
    parts: z.array(PartOrFailure).default([]),
    dns: PartOrFailure.optional(),
    failed: CaughtErrorSchema.optional(),
  })
  .transform(({ dns, ...outcome }) => ({ ...outcome, parts: dns ? [...outcome.parts, dns] : outcome.parts }));
