import { canRedraw } from '../core/terminal.js';
import type { BatchProgress, EpochMetrics } from '../engine/trainer.js';

/**
 * What the runner shows while it works. On a terminal: one line per worker (task, epoch, batch,
 * loss, accuracy, images/s, ETA of the task) and an overall line, redrawn in place a few times a
 * second. Elsewhere (logs, CI): a plain line per finished epoch and task.
 */
export interface RunDisplay {
  start(text: string): void;
  message(text: string): void;
  taskStart(worker: number, key: string): void;
  batch(worker: number, key: string, progress: BatchProgress): void;
  epoch(worker: number, key: string, metrics: EpochMetrics): void;
  taskEnd(worker: number, key: string, text: string): void;
  overall(done: number, total: number, etaSeconds: number | undefined): void;
  close(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
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

export function createDisplay(stream: NodeJS.WriteStream, epochs: number, batchSize: number): RunDisplay {
  if (!canRedraw(stream)) {
    return {
      start: (text) => stream.write(`${text}\n`),
      message: (text) => stream.write(`${text}\n`),
      taskStart: (worker, key) => stream.write(`[worker ${worker + 1}] ${key}: started\n`),
      batch: () => {},
      epoch: (_worker, key, m) => stream.write(`${epochLine(key, m, epochs)}\n`),
      taskEnd: (_worker, key, text) => stream.write(`${key}: ${text}\n`),
      overall: (done, total, eta) => stream.write(`tasks ${done}/${total} done${eta !== undefined ? `, about ${formatDuration(eta)} to go` : ''}\n`),
      close: () => {},
    };
  }
  const lines: string[] = [];
  let overallLine = '';
  let drawn = 0;
  let last = 0;
  const width = () => Math.max(40, (stream.columns ?? 100) - 1);
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 200) return;
    last = now;
    let out = drawn > 0 ? `\u001b[${drawn}A` : '';
    for (const line of [...lines.map((l, i) => `w${i + 1} ${l}`), overallLine]) out += `\u001b[2K${line.slice(0, width())}\n`;
    stream.write(out);
    drawn = lines.length + 1;
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
      draw(true);
    },
    batch: (worker, key, p) => {
      const eta = (p.batches - p.batch + (epochs - p.epoch) * p.batches) * (batchSize / Math.max(p.imagesPerSecond, 1e-9));
      lines[worker] = `${key} epoch ${p.epoch}/${epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} acc ${pct(p.accuracy)} ${p.imagesPerSecond.toFixed(0)} img/s task ETA ${formatDuration(eta)}`;
      draw();
    },
    epoch: (_worker, key, m) => log(epochLine(key, m, epochs)),
    taskEnd: (worker, key, text) => {
      lines[worker] = 'idle';
      log(`${key}: ${text}`);
    },
    overall: (done, total, eta) => {
      overallLine = `tasks ${done}/${total} done${eta !== undefined ? `, about ${formatDuration(eta)} to go` : ''}`;
      draw(true);
    },
    close: () => {
      draw(true);
    },
  };
}
