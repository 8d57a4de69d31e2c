import { setImmediate as nextTurn, setTimeout as nextTimerTurn } from 'node:timers/promises';
import type { SandboxEstate } from '#lib/sandbox/estate';

/**
 * One sandbox clock for every branch of a run (Map iterations, Parallel branches, child
 * executions): a Wait does not move the clock itself, it waits for it, and the clock moves only
 * when every live branch is waiting. Then it jumps to the earliest wake-up and resumes the
 * branches due then, in a fixed order (wake time, execution name, state, then who waited first).
 * Ten Map iterations each waiting 15 s move the clock 15 s, not 150 s, as in AWS; a single branch
 * reads the same clock as when each Wait moved it.
 *
 * "Every branch is waiting": no Task is running (the run's RunControl counts them, here) and the
 * event loop has settled: the interpreter moves between states in promise callbacks, with
 * setImmediate turns and, for retries, timers of 0 ms, so several turns and a timer turn pass
 * with nothing new before the clock moves.
 */

const SETTLE_TURNS = 5;

interface Waiter {
  wakeMs: number;
  execution: string;
  state: string;
  /** The Map and Parallel states it waits inside (a failed one cancels it). */
  within: string[];
  order: number;
  resolve: () => void;
}

export class SandboxTime {
  private busyTasks = 0;
  /** Changes whenever a Task starts or ends or a branch starts waiting: settling starts over. */
  private generation = 0;
  private waiters: Waiter[] = [];
  private order = 0;
  private checking = false;

  constructor(private readonly estate: SandboxEstate) {}

  /** Runs a Task: the clock does not move while it runs. */
  async busy<T>(work: () => Promise<T>): Promise<T> {
    this.busyTasks += 1;
    this.generation += 1;
    try {
      return await work();
    } finally {
      this.busyTasks -= 1;
      this.generation += 1;
      this.poke();
    }
  }

  /** A Wait: resolves once the clock has moved `seconds` on from now. */
  wait(seconds: number, who: Pick<Waiter, 'execution' | 'state' | 'within'>): Promise<void> {
    return new Promise((resolve) => {
      const wakeMs = this.estate.state.clockOffsetMs + Math.max(0, seconds) * 1000;
      this.waiters.push({ ...who, wakeMs, order: this.order++, resolve });
      this.generation += 1;
      this.poke();
    });
  }

  /** Resumes the waits `which` picks without moving the clock (their execution or branch has stopped). */
  cancel(which: (waiter: Pick<Waiter, 'execution' | 'within'>) => boolean): void {
    const cancelled = this.waiters.filter(which);
    this.waiters = this.waiters.filter((w) => !cancelled.includes(w));
    for (const w of cancelled) w.resolve();
  }

  private poke(): void {
    if (this.checking || this.busyTasks > 0 || this.waiters.length === 0) return;
    this.checking = true;
    void this.moveWhenIdle().finally(() => {
      this.checking = false;
    });
  }

  private async moveWhenIdle(): Promise<void> {
    for (;;) {
      if (this.busyTasks > 0 || this.waiters.length === 0) return;
      const seen = this.generation;
      for (let i = 0; i < SETTLE_TURNS; i += 1) await nextTurn();
      await nextTimerTurn(0);
      for (let i = 0; i < SETTLE_TURNS; i += 1) await nextTurn();
      if (this.generation !== seen) continue;
      if (this.busyTasks > 0 || this.waiters.length === 0) return;
      this.release();
    }
  }

  /** Moves the clock to the earliest wake-up and resumes the waits due then. */
  private release(): void {
    const wakeMs = Math.min(...this.waiters.map((w) => w.wakeMs));
    const due = this.waiters
      .filter((w) => w.wakeMs === wakeMs)
      .sort((a, b) => a.execution.localeCompare(b.execution) || a.state.localeCompare(b.state) || a.order - b.order);
    this.waiters = this.waiters.filter((w) => !due.includes(w));
    const offset = this.estate.state.clockOffsetMs;
    if (wakeMs > offset) this.estate.advance((wakeMs - offset) / 1000);
    this.generation += 1;
    for (const w of due) w.resolve();
  }
}
