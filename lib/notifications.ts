/** The SNS messages every workflow sends: their shape, subject rules and the text helpers they share. */

export type Severity = 'info' | 'warning' | 'critical';

/** An SNS message a person can act on; the ASL publishes it with these as message attributes. */
export interface Notification {
  subject: string;
  message: string;
  severity: Severity;
  cluster: string;
  check: 'onboarding' | 'offboarding' | 'upgrade' | 'network' | 'sweep' | 'cost' | 'connectivity' | 'compliance';
}

/**
 * The longest subject SNS Publish takes: "less than 100 characters long" (SNS API reference,
 * Publish, Subject: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
 */
export const SNS_SUBJECT_MAX_LENGTH = 99;

/** SNS subjects: printable ASCII (no line breaks), at most SNS_SUBJECT_MAX_LENGTH characters. */
export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= SNS_SUBJECT_MAX_LENGTH ? ascii : `${ascii.slice(0, SNS_SUBJECT_MAX_LENGTH - 3)}...`;
}

export function lines(entries: Array<[string, string | number | undefined]>): string {
  return entries
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n');
}

/** Items shown in full per section of one message; the rest are counted and point to the report. */
export const MAX_DETAILED = 25;

/** A section's lines, at most MAX_DETAILED items shown; `more` says where the rest are. */
export const capped = <T>(items: T[], show: (x: T) => string[], more: string): string[] =>
  items.length <= MAX_DETAILED
    ? items.flatMap(show)
    : [...items.slice(0, MAX_DETAILED).flatMap(show), `- ... and ${items.length - MAX_DETAILED} more: ${more}`];
