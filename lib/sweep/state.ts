import * as z from 'zod';
import { CHECKS, SEVERITIES } from './findings';
import { CaughtErrorSchema } from '../caught-error';
import { RUN_ID } from '../run-id';

/**
 * The shapes the nightly-sweep state machine passes between its Tasks (what each handler accepts).
 * Each step reads what the one before wrote to the run store and passes on only keys and counts,
 * so the state stays small however many nodes there are: Step Functions allows 256 KiB per state.
 */

export const SweepIdSchema = z
  .string({ error: 'sweepId is required' })
  .regex(RUN_ID, 'sweepId must be the id the SweepInventory step returned, e.g. 20261122T180000Z-a1b2c3');

export const CheckPartSchema = z.object({
  key: z.string().min(1),
  findings: z.number().int().min(0),
  summary: z.record(z.string(), z.unknown()).optional(),
});

/** What one part of a check (the whole cost check, one probe batch, ...) hands the merge step. */
export type CheckPart = z.output<typeof CheckPartSchema>;

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

/** What a branch of the Parallel state hands on: its parts, or the error that stopped it. */
export type CheckOutcome = z.output<typeof CheckOutcomeSchema>;

/** One published alert, as PublishSweepAlerts returns it and the execution output lists it. */
export const PublishedAlertSchema = z.object({
  subject: z.string(),
  severity: z.enum(SEVERITIES),
  cluster: z.string(),
  check: z.enum([...CHECKS, 'all']),
  messageId: z.string(),
});
export type PublishedAlert = z.infer<typeof PublishedAlertSchema>;
