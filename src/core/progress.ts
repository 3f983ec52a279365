import { canRedraw } from './terminal.js';
/**
 * Progress for long work: on a terminal one line redrawn in place (at most 10 times a second);
 * elsewhere (CI logs, pipes) a plain line at each quarter, so logs stay readable.
 */
export interface Progress {
  /** `fraction` in [0, 1], or undefined when the total is unknown. */
  update(task: string, fraction: number | undefined, detail?: string): void;
  /** Ends the task's line with a final message. */
  done(task: string, message: string): void;
}

export const silentProgress: Progress = { update: () => {}, done: () => {} };

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (canRedraw(stream)) {
    let last = 0;
    return {
      update(task, fraction, detail) {
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        const percent = fraction === undefined ? '' : ` ${(fraction * 100).toFixed(0).padStart(3)}%`;
        const width = Math.max(20, (stream.columns ?? 80) - 1);
        stream.write(`\r${`${task}${percent}${detail ? `  ${detail}` : ''}`.slice(0, width).padEnd(width)}`);
      },
      done(task, message) {
        const width = Math.max(20, (stream.columns ?? 80) - 1);
        stream.write(`\r${' '.repeat(width)}\r${task}: ${message}\n`);
        last = 0;
      },
    };
  }
  const reported = new Map<string, number>();
  return {
    update(task, fraction, detail) {
      if (fraction === undefined) return;
      const quarter = Math.floor(fraction * 4);
      if (quarter <= (reported.get(task) ?? 0) || quarter >= 4) return;
      reported.set(task, quarter);
      stream.write(`${task}: ${quarter * 25}%${detail ? ` (${detail})` : ''}\n`);
    },
    done(task, message) {
      reported.delete(task);
      stream.write(`${task}: ${message}\n`);
    },
  };
}
