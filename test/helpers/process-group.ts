import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Runs "$@" in the background and waits for it; a watcher kills the whole process group once stdin
 * reaches its end (a background job's stdin would be /dev/null, hence the copy on fd 3).
 */
export const ENDS_WITH_PARENT = 'exec 3<&0; (cat <&3 >/dev/null; kill -TERM -$$) & "$@" & wait $!';

export interface GroupProcess {
  child: ChildProcess;
  /** The last 20,000 characters it wrote to stdout and stderr. */
  output(): string;
}

/**
 * A server or daemon for a test, run in the foreground in its own process group: stopping the group
 * ends whatever it started, and the group ends itself when this process dies without stopping it
 * (a killed test runner), through the watcher of ENDS_WITH_PARENT.
 */
export function spawnGroup(name: string, command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): GroupProcess {
  const child = spawn('bash', ['-c', ENDS_WITH_PARENT, name, command, ...args], { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => log };
}

/** SIGTERM to the whole group, SIGKILL to what is left after `graceMs`; resolves once it is gone. */
export async function stopGroup(group: number | undefined, graceMs = 10_000): Promise<void> {
  if (group === undefined) return;
  const signal = (name: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-group, name);
      return true;
    } catch {
      return false; // no process left in the group
    }
  };
  signal('SIGTERM');
  for (let waited = 0; signal(0) && waited < 2 * graceMs; waited += 100) {
    if (waited === graceMs) signal('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on now (for a server a test starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
