/**
 * The remaining wall time of a run's training, from the start: each task's estimated seconds (the
 * estimate's, or without one the mean of the tasks finished so far), scaled by how the real times
 * compare with the estimated ones (finished tasks, and running ones a tenth or more done), shared
 * out over the workers. Refined with every task that progresses or ends.
 */
export class RemainingTime {
  private readonly fraction = new Map<string, number>();
  private readonly began = new Map<string, number>();
  private readonly finished = new Map<string, number>();
  private readonly gone = new Set<string>();

  constructor(
    private readonly keys: readonly string[],
    private readonly workers: number,
    private readonly estimated?: Readonly<Record<string, number>>,
  ) {}

  started(key: string, now = Date.now()): void {
    this.began.set(key, now);
    this.fraction.set(key, 0);
  }

  /** How much of a running task is done, in [0, 1]. */
  progress(key: string, fraction: number): void {
    this.fraction.set(key, Math.max(0, Math.min(1, fraction)));
  }

  /** A task that failed or stopped: it counts neither as work left nor as a measure of speed. */
  abandoned(key: string): void {
    this.gone.add(key);
    this.fraction.delete(key);
    this.began.delete(key);
  }

  ended(key: string, seconds: number): void {
    this.finished.set(key, seconds);
    this.fraction.delete(key);
    this.began.delete(key);
  }

  /** How much of the work is done, in [0, 1]: finished tasks and the done part of running ones, each by its estimated size. */
  fractionDone(): number {
    const estimateOf = this.taskEstimate() ?? (() => 1);
    let total = 0;
    let done = 0;
    for (const key of this.keys) {
      if (this.gone.has(key)) continue;
      const size = estimateOf(key) || 1;
      total += size;
      done += this.finished.has(key) ? size : (this.fraction.get(key) ?? 0) * size;
    }
    return total > 0 ? done / total : 0;
  }

  /** Seconds until every task has ended, or undefined before anything can tell. */
  seconds(now = Date.now()): number | undefined {
    const estimateOf = this.taskEstimate();
    if (!estimateOf) return undefined;
    let real = 0;
    let expected = 0;
    for (const [key, seconds] of this.finished) {
      real += seconds;
      expected += estimateOf(key);
    }
    for (const [key, fraction] of this.fraction) {
      if (fraction < 0.1) continue;
      real += (now - this.began.get(key)!) / 1000;
      expected += fraction * estimateOf(key);
    }
    const scale = expected > 0 ? real / expected : 1;
    let total = 0;
    let longest = 0;
    for (const key of this.keys) {
      if (this.finished.has(key) || this.gone.has(key)) continue;
      const left = (1 - (this.fraction.get(key) ?? 0)) * estimateOf(key) * scale;
      total += left;
      if (this.fraction.has(key)) longest = Math.max(longest, left);
    }
    return Math.max(total / Math.max(1, this.workers), longest);
  }

  private taskEstimate(): ((key: string) => number) | undefined {
    const estimated = this.estimated;
    if (estimated) return (key) => estimated[key] ?? 0;
    if (this.finished.size === 0) return undefined;
    const mean = [...this.finished.values()].reduce((a, b) => a + b, 0) / this.finished.size;
    return () => mean;
  }
}
