import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { canRedraw, useColor } from '../../src/core/terminal.js';
import { ferBin, repoRoot } from '../helpers/cli.js';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('terminal conventions', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('colours a terminal by default, and honours NO_COLOR, FORCE_COLOR=0, FORCE_COLOR=1 and TERM=dumb', () => {
    vi.stubEnv('NO_COLOR', undefined);
    vi.stubEnv('FORCE_COLOR', undefined);
    vi.stubEnv('TERM', 'xterm-256color');
    expect(useColor(tty, undefined)).toBe(true);
    expect(useColor(pipe, undefined)).toBe(false);
    vi.stubEnv('FORCE_COLOR', '0');
    expect(useColor(tty, undefined)).toBe(false);
    vi.stubEnv('FORCE_COLOR', '1');
    expect(useColor(pipe, undefined)).toBe(true);
    vi.stubEnv('FORCE_COLOR', undefined);
    vi.stubEnv('NO_COLOR', '1');
    expect(useColor(tty, undefined)).toBe(false);
    vi.stubEnv('NO_COLOR', undefined);
    vi.stubEnv('TERM', 'dumb');
    expect(useColor(tty, undefined)).toBe(false);
    expect(useColor(tty, true)).toBe(true);
  });

  it('redraws lines in place only on a terminal that is not dumb', () => {
    vi.stubEnv('TERM', 'xterm');
    expect(canRedraw(tty)).toBe(true);
    expect(canRedraw(pipe)).toBe(false);
    vi.stubEnv('TERM', 'dumb');
    expect(canRedraw(tty)).toBe(false);
  });

  it('stops quietly when the reader of its output goes away (no "write EPIPE")', async () => {
    const child = spawn(process.execPath, [ferBin, 'schema'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE/);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
