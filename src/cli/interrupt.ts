import { killWorkers } from '../run/pool.js';

/** Exit code of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it). */
export const EXIT_STOPPED = 130;

/**
 * Ctrl-C and SIGTERM for a command that trains: the first one aborts the returned signal (running
 * tasks stop after their current batch and keep their checkpoints), a second one kills the workers
 * and quits at once. `release` removes the handlers when the command is done.
 */
export function stopOnInterrupt(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    if (++interrupts > 1) {
      killWorkers();
      process.exit(EXIT_STOPPED);
    }
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
    },
  };
}
