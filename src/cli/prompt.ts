import { createInterface } from 'node:readline/promises';

/** Asks a yes/no question on the terminal; anything but y or yes is no, and so is Ctrl-C. */
export async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const interrupted = new AbortController();
  // In raw mode readline takes Ctrl-C itself: without this the question would wait on.
  rl.on('SIGINT', () => interrupted.abort());
  try {
    const answer = await rl.question(question, { signal: interrupted.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    process.stderr.write('\n');
    return false;
  } finally {
    rl.close();
  }
}
