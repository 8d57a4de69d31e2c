import type { SignedAnswer } from './signed-fetch';

/** One onboarding request as `GET /nodes` lists it. */
export interface ListedNode {
  requestId: string;
  status: string;
  startedAt: string;
  stoppedAt?: string;
}

/** The most `GET /nodes` gives in one page (its `limit` is 1..100). */
export const PAGE_LIMIT = 100;

/**
 * `GET /nodes` page after page (each asking for what is still wanted, at most a page's worth),
 * until `limit` requests are listed or there are no more: the requests, the token of what is
 * left, or the first answer that is not a 200.
 */
export async function collectNodes(
  get: (query: string) => Promise<SignedAnswer>,
  options: { limit: number; status?: string },
): Promise<{ nodes: ListedNode[]; nextToken?: string } | { refused: SignedAnswer; path: string }> {
  const nodes: ListedNode[] = [];
  let nextToken: string | undefined;
  do {
    const query = new URLSearchParams({
      ...(options.status ? { status: options.status } : {}),
      limit: String(Math.min(PAGE_LIMIT, options.limit - nodes.length)),
      ...(nextToken ? { nextToken } : {}),
    }).toString();
    const answer = await get(query);
    if (answer.status !== 200) return { refused: answer, path: `/nodes?${query}` };
    const page = answer.body as { nodes?: ListedNode[]; nextToken?: string };
    nodes.push(...(page.nodes ?? []));
    nextToken = page.nextToken;
  } while (nextToken && nodes.length < options.limit);
  return { nodes, ...(nextToken ? { nextToken } : {}) };
}

/** The requests as a table: request id, status, started, stopped (times in UTC, to the second). */
export function nodeTable(nodes: ListedNode[]): string[] {
  const time = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z') : '-');
  const rows = [
    ['REQUEST ID', 'STATUS', 'STARTED', 'STOPPED'],
    ...nodes.map((n) => [n.requestId, n.status, time(n.startedAt), time(n.stoppedAt)]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell))
      .join('  ')
      .trimEnd(),
  );
}
