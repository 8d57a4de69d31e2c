/** What a reconciliation may do: only look, or also change. */
export const MODES = ['plan', 'apply'] as const;
export type Mode = (typeof MODES)[number];
