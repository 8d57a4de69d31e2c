import type { OutboxMessage } from '#lib/sandbox/services/sns';
import type { LocalRuntime } from '../local-runtime';
import type { ChildRuns, RunEvent, RunResult } from '../runner';

/** Where the CLI writes for a person (nothing is written with --json but the final object). */
export interface Output {
  line(text: string): void;
  note(text: string): void;
}

export type Prepared = { ok: true; input: unknown; banner: string } | { ok: false; problems: string[] };

/** What the CLI needs to know about one workflow beyond its ASL file. */
export interface LocalWorkflow {
  name: string;
  /** Turns the input file's text into the execution input, or lists why it is rejected. */
  prepare(body: string, local: LocalRuntime): Promise<Prepared>;
  /** Side steps a person would take while the workflow runs, after the named Task. */
  afterTask?(local: LocalRuntime, out: Output, input: unknown): Record<string, (result: unknown) => Promise<void>>;
  /** A person's steps while the child executions it starts run (a fleet's servers: their NodeConfigs). */
  childRuns?(local: LocalRuntime, out: Output, input: unknown): ChildRuns;
  /** How its progress is shown, one line per event that matters; every state entered and left when absent. */
  progress?(out: Output, input: unknown): (event: RunEvent) => void;
  /** What `--json` prints as `output`; the execution's output when absent. */
  output?(result: RunResult): unknown;
  /** Prints the outcome; `sent` are the SNS messages this run published (on the sandbox). */
  summarize(result: RunResult, out: Output, sent: OutboxMessage[]): void;
}
