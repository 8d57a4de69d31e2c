import type { SignedAnswer } from './signed-fetch';

/** Step Functions' execution statuses a request ends in (SDK `ExecutionStatus`, client-sfn). */
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

export const isEnded = (status: unknown): boolean => typeof status === 'string' && ENDED.has(status);

export interface FollowIo {
  write(text: string): unknown;
  /** A terminal: one line redrawn in place each second; otherwise a plain line per change. */
  isTTY?: boolean;
}

export interface FollowDeps {
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/**
 * Answers that say "later", not "no": API Gateway's throttling (429) and a Lambda or AWS briefly
 * unavailable (502, 503 with retry-after from this API, 504).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
 */
export const TRANSIENT = new Set([429, 502, 503, 504]);

/** Seconds between polls: the answer's retry-after when it gives one, else this. */
export const POLL_SECONDS = 10;

const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/**
 * Polls `get` until the request's `status` is one it ends in, and returns the last answer (or the
 * first that is not a 200). On a terminal it redraws "status phase, elapsed, next poll in" every
 * second; elsewhere it writes a line when the status or phase changes.
 */
export async function follow(
  get: () => Promise<SignedAnswer>,
  out: FollowIo | undefined,
  deps: FollowDeps,
): Promise<SignedAnswer> {
  const started = deps.now();
  let last = '';
  for (;;) {
    const answer = await get();
    if (TRANSIENT.has(answer.status)) {
      // throttled or briefly unavailable: the request goes on, so keep following it
      const wait = Number(answer.headers['retry-after']) || POLL_SECONDS;
      if (out)
        out.write(
          `${out.isTTY ? '\r\x1b[K' : ''}  (HTTP ${answer.status}; polling again in ${wait}s)${out.isTTY ? '' : '\n'}`,
        );
      await deps.sleep(wait * 1000);
      continue;
    }
    if (answer.status !== 200) {
      if (out?.isTTY) out.write('\r\x1b[K');
      return answer;
    }
    const { status, phase } = answer.body as { status?: string; phase?: string };
    const line = `${status ?? '?'}${phase ? ` ${phase}` : ''}`;
    if (isEnded(status)) {
      if (out?.isTTY) out.write('\r\x1b[K');
      if (out && !out.isTTY && line !== last) out.write(`  ${line} (${clock(deps.now() - started)})\n`);
      return answer;
    }
    const wait = Number(answer.headers['retry-after']) || POLL_SECONDS;
    if (!out?.isTTY) {
      if (out && line !== last) out.write(`  ${line} (${clock(deps.now() - started)})\n`);
      last = line;
      await deps.sleep(wait * 1000);
      continue;
    }
    for (let left = wait; left > 0; left--) {
      out.write(`\r\x1b[K  ${line}, elapsed ${clock(deps.now() - started)}, next poll in ${left}s`);
      await deps.sleep(1000);
    }
    last = line;
  }
}
