import type { Streams } from '#cli/main';

/** Streams for `main` that keep what the CLI writes, read back with stdout() and stderr(). */
export function cliIo(): { streams: Streams; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    streams: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
