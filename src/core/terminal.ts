/**
 * What the terminal fer writes to can take, by the conventions users set in their environment:
 * NO_COLOR (no-color.org), FORCE_COLOR (0 turns colour off, any other value on), TERM=dumb (no
 * colour, no lines redrawn in place); and how fer behaves when the reader of its output goes away.
 */

/** Colour: the --color flag, else FORCE_COLOR, NO_COLOR and TERM=dumb, else only on a terminal. */
export function useColor(stream: Pick<NodeJS.WriteStream, 'isTTY'>, flag: boolean | undefined): boolean {
  if (flag !== undefined) return flag;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** Progress drawn over itself with `\r` needs a terminal that moves the cursor; a dumb one gets plain lines. */
export function canRedraw(stream: Pick<NodeJS.WriteStream, 'isTTY'>): boolean {
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

/**
 * When the reader of stdout or stderr goes away (`fer ... | head`, or Ctrl-C in a pipeline), writes
 * fail with EPIPE, which Node throws as an unhandled 'error' event with a stack. Output to a closed
 * pipe is dropped instead and the process carries on, so that a run being stopped still records
 * that it stopped.
 */
export function quietOnClosedPipes(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      stream.write = (() => true) as typeof stream.write;
    });
  }
}
