import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { readSyntheticSource } from '../../src/registry/sources/synthetic.js';
import { ferBin, repoRoot, runFer } from '../helpers/cli.js';

/** A tiny finished run of the demo on synthetic images (a few seconds), for the server to serve. */
export async function tinyDemoRun(runsDir: string, epochs = 2): Promise<string> {
  const result = await runFer([
    'run', 'configs/demo.yaml', '--runs', runsDir, '--workers', '1', '--tracking-uri', 'none',
    '--set', 'data.source.synthetic.rows_per_class=12', '--set', `training.epochs=${epochs}`,
  ]);
  if (result.code !== 0) throw new Error(result.stderr);
  const experiment = path.join(runsDir, 'demo');
  return path.join(experiment, readdirSync(experiment).find((d) => d.startsWith('run-'))!);
}

/** A real `fer serve` in its own process on a free port; resolves with its URL once it listens. */
export async function startServe(dir: string, extra: readonly string[] = []): Promise<{ url: string; child: ChildProcess; stop(): void }> {
  const child = spawn(process.execPath, [ferBin, 'serve', dir, '--port', '0', ...extra], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fer serve did not start in 60 s:\n${output}`)), 60_000);
    const listen = (data: Buffer) => {
      output += data.toString();
      const match = /fer serve: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', listen);
    child.stderr.on('data', listen);
    child.on('exit', (code) => reject(new Error(`fer serve exited with ${code}:\n${output}`)));
  });
  return { url, child, stop: () => child.kill('SIGTERM') };
}

/** A synthetic image of the class `label` (as the demo trains on), scaled up `factor` times (nearest), as a gray PNG. */
export function syntheticFacePng(label: number, factor = 1): Buffer {
  const classes = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
  const rows = readSyntheticSource({ rowsPerClass: 1, splits: ['test'], noise: 0.5, classes, image: { height: 48, width: 48, channels: 1 }, seed: 99 });
  const row = rows.labels.indexOf(label);
  const size = 48 * factor;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = rows.pixels[row * 2304 + Math.floor(y / factor) * 48 + Math.floor(x / factor)]!;
      png.data.set([v, v, v, 255], (y * size + x) * 4);
    }
  }
  return PNG.sync.write(png);
}
