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
  return table([
    ['REQUEST ID', 'STATUS', 'STARTED', 'STOPPED'],
    ...nodes.map((n) => [n.requestId, n.status, time(n.startedAt), time(n.stoppedAt)]),
  ]);
}

/** One server of `GET /fleets/{fleetId}` (lib/fleets/status.ts), as far as the table shows it. */
export interface FleetServer {
  name: string;
  requestId?: string;
  status?: string;
  phase?: string;
  nodeName?: string | null;
  gpuRequested?: number | null;
  gpuAllocatable?: number | null;
  error?: string;
  problem?: string;
}

export const isFleetServers = (value: unknown): value is FleetServer[] =>
  Array.isArray(value) &&
  value.length > 0 &&
  value.every((v) => typeof v === 'object' && v !== null && typeof (v as FleetServer).name === 'string');

/** A fleet's servers as a table (name, status, phase, Node, GPUs, request id), each failure's error under it. */
export function fleetTable(servers: FleetServer[]): string[] {
  const gpus = (s: FleetServer) => (s.gpuRequested ? `${s.gpuAllocatable ?? '?'}/${s.gpuRequested}` : '-');
  const rows = table([
    ['SERVER', 'STATUS', 'PHASE', 'NODE', 'GPUS', 'REQUEST ID'],
    ...servers.map((s) => [s.name, s.status ?? '-', s.phase ?? '-', s.nodeName ?? '-', gpus(s), s.requestId ?? '-']),
  ]);
  return [
    rows[0] ?? '',
    ...servers.flatMap((s, i) => [
      rows[i + 1] ?? '',
      ...(s.error ? [`  ^ ${s.error}${s.problem ? `: ${s.problem}` : ''}`] : []),
    ]),
  ];
}

/** Rows as columns padded to their widest cell, two spaces apart (the last column unpadded). */
function table(rows: string[][]): string[] {
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i < columns - 1 ? cell.padEnd(widths[i] ?? 0) : cell))
      .join('  ')
      .trimEnd(),
  );
}
