import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ferBin, repoRoot } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

/**
 * `fer run` as a person at a terminal sees it: in a real pseudo-terminal (a tmux pane), the
 * estimate before training, the one bar for the run above a line per worker, and Ctrl-C stopping
 * cleanly with exit 130 and a resumable run.
 */
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.warn('terminal tests skipped: tmux is not installed (apt-get install tmux)');

const sessions: string[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', s]);
});

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (session: string) => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session);

async function waitFor(session: string, test: (text: string) => boolean, seconds: number): Promise<string> {
  const until = Date.now() + seconds * 1000;
  let text = '';
  while (Date.now() < until) {
    text = screen(session);
    if (test(text)) return text;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out; the terminal shows:\n${text}`);
}

describe.runIf(hasTmux)('fer run in a terminal', () => {
  it('shows the estimate, one bar for the run over a line per worker, and stops cleanly on Ctrl-C', async () => {
    const dir = tempDir('fer-tty-');
    const session = `fer-tty-${process.pid}`;
    sessions.push(session);
    const exitFile = path.join(dir, 'exit');
    // Slow enough to be caught mid-run: 40 epochs of the demo.
    const command = `cd ${dir} && FER_CACHE=${dir}/cache NO_COLOR= FORCE_COLOR= ${process.execPath} ${ferBin} run ${path.join(repoRoot, 'configs/demo.yaml')} --set training.epochs=40 --workers 2; echo $? > ${exitFile}; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', command);

    const before = await waitFor(session, (t) => /estimate: about \S+ on 2 workers/.test(t), 120);
    expect(before).toMatch(/work: 4 tasks x 40 epochs x \d+ rows/);
    const live = await waitFor(session, (t) => /\d+\/4 tasks .*img\/s .*left/.test(t) && /^ {2}w2 tiny-\d\/fold-\d epoch \d+\/40 batch/m.test(t), 120);
    // The bar is the line right above the workers' lines.
    const lines = live.split('\n');
    const bar = lines.findIndex((l) => /\d+\/4 tasks /.test(l));
    expect(lines[bar + 1]).toMatch(/^ {2}w1 /);
    expect(lines[bar]).toMatch(/^[█░]{24} \d\/4 tasks {2}\d+ img\/s {2}about \S+ left/);

    tmux('send-keys', '-t', session, 'C-c');
    const stopped = await waitFor(session, (t) => /stopped; rerun the same command to continue/.test(t), 60);
    expect(stopped).not.toMatch(/\n\s+at .+:\d+:\d+/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('130');
  }, 300_000);

  it('writes plain lines, no cursor movement, with TERM=dumb', async () => {
    const dir = tempDir('fer-dumb-');
    const session = `fer-dumb-${process.pid}`;
    sessions.push(session);
    const log = path.join(dir, 'log');
    // The pane's raw bytes go to the log (pipe-pane), so escape sequences would show there.
    const command = `sleep 2; cd ${dir} && TERM=dumb FER_CACHE=${dir}/cache ${process.execPath} ${ferBin} run ${path.join(repoRoot, 'configs/demo.yaml')} --set training.epochs=2; echo done > ${dir}/exit; sleep 30`;
    tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', command);
    tmux('pipe-pane', '-o', '-t', session, `cat >> ${log}`);
    const until = Date.now() + 240_000;
    while (Date.now() < until) {
      try {
        readFileSync(path.join(dir, 'exit'));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('tasks 4/4 done');
    expect(text).toContain('estimate: about');
    // eslint-disable-next-line no-control-regex -- the escape is what must not be there
    expect(text).not.toMatch(/\u001b\[\d*[AK]/);
  }, 300_000);
});
