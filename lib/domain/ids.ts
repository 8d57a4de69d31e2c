import { createHash } from 'node:crypto';

/**
 * How the workflows name their requests (each id is also an execution's name and a label value,
 * so at most 63 characters of [a-z0-9-]): a readable part and a hash.
 */

/** Text as an id's readable part: lower-case letters, digits and '-', at most 40, no '-' at either end. */
export function idSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
}

/** An id's unique part: the first 12 hex digits of the SHA-256 of `parts`, one per line. */
export function idHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 12);
}
