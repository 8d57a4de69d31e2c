import * as z from 'zod';
import { splitFix } from './errors';

/**
 * What a Catch writes at its `ResultPath`: Step Functions' error name and cause (Step Functions
 * developer guide, "Handling errors": the error output has the fields `Error` and `Cause`).
 */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

/** The error a Catch recorded, read back: Lambda errors carry a JSON cause, States.* a plain one. */
export function describeCaughtError(caught: CaughtError): {
  name: string;
  problem: string;
  fix?: string;
} {
  let message = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // a plain-text cause, as States.Timeout and States.TaskFailed give
  }
  return { name: caught.Error, ...splitFix(message || caught.Error) };
}
