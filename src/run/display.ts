import type { BatchProgress, EpochMetrics } from '../engine/trainer.js';

/**
 * What the runner shows while it works. On a terminal: one bar for the whole run (tasks done,
 * images/s over all workers, remaining time) above one line per worker (task, epoch, batch, loss,
 * accuracy, images/s), redrawn in place a few times a second, with finished epochs and tasks as
 * permanent lines above. Elsewhere (logs, CI, TERM=dumb): a plain line per finished epoch and task.
 */
export interface RunDisplay {
  start(text: string): void;
  message(text: string): void;
  taskStart(worker: number, key: string): void;
  batch(worker: number, key: string, progress: BatchProgress): void;
  epoch(worker: number, key: string, metrics: EpochMetrics): void;
  taskEnd(worker: number, key: string, text: string): void;
  /** The run as a whole: tasks done of all, and the remaining wall time when it can be told. */
  overall(done: number, total: number, remainingSeconds: number | undefined, fraction?: number): void;
  close(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s >= 86400) return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const pct = (v: number | undefined) => (v === undefined ? '  -  ' : `${(v * 100).toFixed(1)}%`);

export function epochLine(key: string, m: EpochMetrics, epochs: number): string {
  const val =
    m.val_loss !== undefined
      ? ` val_loss ${m.val_loss.toFixed(4)} val_acc ${pct(m.val_accuracy)}`
      : m.test_loss !== undefined
        ? ` test_loss ${m.test_loss.toFixed(4)} test_acc ${pct(m.test_accuracy)}`
        : '';
  return `${key} epoch ${m.epoch}/${epochs} loss ${m.loss.toFixed(4)} acc ${pct(m.accuracy)}${val} lr ${m.learning_rate.toPrecision(3)} ${m.images_per_second.toFixed(0)} img/s ${m.seconds.toFixed(1)}s`;
}

export interface DisplayOptions {
  epochs: number;
  batchSize: number;
  /** Colour the bar (the caller decides: NO_COLOR, FORCE_COLOR, --color). */
  color: boolean;
  /** Redraw in place (a terminal that can: not TERM=dumb); otherwise plain lines. */
  live: boolean;
}

const BAR_WIDTH = 24;

/** `[#########-----------]` (or coloured blocks), `fraction` in [0, 1]. */
export function progressBar(fraction: number, color: boolean, width = BAR_WIDTH): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  if (!color) return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return `\u001b[32m${'\u2588'.repeat(filled)}\u001b[2m${'\u2591'.repeat(width - filled)}\u001b[0m`;
}

/** The run's line: bar, tasks done, images/s of all workers, time left. */
export function overallLine(done: number, total: number, imagesPerSecond: number, remaining: number | undefined, color: boolean, fraction = total > 0 ? done / total : 0): string {
  const left = remaining === undefined ? 'estimating time left' : `about ${formatDuration(remaining)} left`;
  return `${progressBar(fraction, color)} ${done}/${total} tasks  ${imagesPerSecond > 0 ? `${imagesPerSecond.toFixed(0)} img/s  ` : ''}${left}`;
}

export function createDisplay(stream: NodeJS.WriteStream, options: DisplayOptions): RunDisplay {
  const { epochs, color } = options;
  if (!options.live) {
    let reported = -1;
    return {
      start: (text) => stream.write(`${text}\n`),
      message: (text) => stream.write(`${text}\n`),
      taskStart: (worker, key) => stream.write(`[worker ${worker + 1}] ${key}: started\n`),
      batch: () => {},
      epoch: (_worker, key, m) => stream.write(`${epochLine(key, m, epochs)}\n`),
      taskEnd: (_worker, key, text) => stream.write(`${key}: ${text}\n`),
      // A log gets the run's line when a task has finished, not with every batch.
      overall: (done, total, remaining) => {
        if (done === reported) return;
        reported = done;
        if (done > 0) stream.write(`tasks ${done}/${total} done${remaining !== undefined && done < total ? `, about ${formatDuration(remaining)} to go` : ''}\n`);
      },
      close: () => {},
    };
  }
  const lines: string[] = [];
  const rates: number[] = [];
  let progress: { done: number; total: number; remaining: number | undefined; fraction: number | undefined } | undefined;
  let drawn = 0;
  let last = 0;
  const width = () => Math.max(40, (stream.columns ?? 100) - 1);
  // Cut to the terminal's width by visible characters: a wrapped line would break the redraw.
  const fit = (line: string) => {
    // eslint-disable-next-line no-control-regex -- the escape is what is matched: colour codes take no columns
    const visible = line.replace(/\u001b\[[0-9;]*m/g, '');
    if (visible.length <= width()) return line;
    return color ? `${visible.slice(0, width())}` : line.slice(0, width());
  };
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 200) return;
    last = now;
    const block = [
      ...(progress ? [overallLine(progress.done, progress.total, rates.reduce((a, b) => a + b, 0), progress.remaining, color, progress.fraction)] : []),
      ...lines.map((l, i) => `  w${i + 1} ${l}`),
    ];
    let out = drawn > 0 ? `\u001b[${drawn}A` : '';
    for (const line of block) out += `\u001b[2K${fit(line)}\n`;
    // A shorter block than before (no bar yet): clear what is left below.
    for (let i = block.length; i < drawn; i++) out += '\u001b[2K\n';
    if (drawn > block.length) out += `\u001b[${drawn - block.length}A`;
    stream.write(out);
    drawn = block.length;
  };
  /** Writes a permanent line above the live block. */
  const log = (text: string) => {
    let out = drawn > 0 ? `\u001b[${drawn}A` : '';
    for (let i = 0; i < drawn; i++) out += '\u001b[2K\n';
    out += drawn > 0 ? `\u001b[${drawn}A` : '';
    stream.write(`${out}${text}\n`);
    drawn = 0;
    draw(true);
  };
  return {
    start: (text) => log(text),
    message: (text) => log(text),
    taskStart: (worker, key) => {
      while (lines.length <= worker) lines.push('idle');
      lines[worker] = `${key}: starting`;
      rates[worker] = 0;
      draw(true);
    },
    batch: (worker, key, p) => {
      rates[worker] = p.imagesPerSecond;
      lines[worker] = `${key} epoch ${p.epoch}/${epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} acc ${pct(p.accuracy)} ${p.imagesPerSecond.toFixed(0)} img/s`;
      draw();
    },
    epoch: (_worker, key, m) => log(epochLine(key, m, epochs)),
    taskEnd: (worker, key, text) => {
      lines[worker] = 'idle';
      rates[worker] = 0;
      log(`${key}: ${text}`);
    },
    overall: (done, total, remaining, fraction) => {
      progress = { done, total, remaining, fraction };
      draw();
    },
    close: () => {
      draw(true);
    },
  };
}
