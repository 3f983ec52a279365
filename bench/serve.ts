/**
 * fer serve under load: requests per second and latency (p50, p99) of POST /predict with a PNG,
 * from N concurrent clients on localhost, against a baseline measured in the same run: the same
 * model predicting one image at a time in-process (no HTTP, no decoding), so the ratio is what the
 * server adds. The model is quick.yaml's (batch norm, 3 stages) trained one epoch on synthetic
 * images: speed does not depend on what the weights learned. Each level is bounded in requests and
 * in time. Needs `npm run build` (the server runs as `fer serve`, in its own process).
 *   npm run bench -- serve          BENCH_CLIENTS=1,4,16 BENCH_REQUESTS=400 BENCH_SECONDS=20
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { startEngine } from '../src/backend/backend.js';
import { imageBytesInput } from '../src/predict/inputs.js';
import { Predictor, servedModel } from '../src/serve/served-model.js';
import { printMachine } from './report.js';

printMachine('serve');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'fer.js');
const levels = (process.env.BENCH_CLIENTS ?? '1,4,16').split(',').map(Number);
const maxRequests = Number(process.env.BENCH_REQUESTS ?? 400);
const maxSeconds = Number(process.env.BENCH_SECONDS ?? 20);

function fer(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`fer ${args.join(' ')} failed:\n${out}`))));
  });
}

const runs = mkdtempSync(path.join(tmpdir(), 'fer-bench-serve-'));
await fer(['run', 'configs/quick.yaml', '--runs', runs, '--workers', '1', '--tracking-uri', 'none', '--set', 'data.source={synthetic: {rows_per_class: 4, splits: [train, test], noise: 0.5}}', '--set', 'data.split={train: train, test: test}', '--set', 'training.epochs=1', '--set', 'data.class_weight=none']);
const runDir = path.join(runs, 'quick', readdirSync(path.join(runs, 'quick')).find((d) => d.startsWith('run-'))!);

const png = new PNG({ width: 48, height: 48 });
for (let i = 0; i < 48 * 48; i++) {
  const v = Math.round(127 + 100 * Math.sin(i / 31) * Math.cos(i / 7));
  png.data.set([v, v, v, 255], i * 4);
}
const image = PNG.sync.write(png);

// Baseline: the same model, one image per call, in this process.
const { tf } = await startEngine('auto');
const predictor = await Predictor.load(tf, servedModel(runDir));
const pixels = imageBytesInput(image, 'bench', { height: 48, width: 48, channels: 1 });
for (let i = 0; i < 20; i++) await predictor.predict(pixels, 1);
let calls = 0;
const baselineStart = performance.now();
while (calls < maxRequests && performance.now() - baselineStart < maxSeconds * 1000) {
  await predictor.predict(pixels, 1);
  calls++;
}
const baselinePerSecond = calls / ((performance.now() - baselineStart) / 1000);
predictor.dispose();

const server = spawn(process.execPath, [bin, 'serve', runDir, '--port', '0'], { cwd: root });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  const listen = (d: Buffer) => {
    out += d.toString();
    const match = /fer serve: (http:\/\/\S+)/.exec(out);
    if (match) resolve(match[1]!);
  };
  server.stdout.on('data', listen);
  server.stderr.on('data', listen);
  server.on('exit', () => reject(new Error(`fer serve exited:\n${out}`)));
});

async function request(): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${url}predict`, { method: 'POST', body: image, headers: { 'Content-Type': 'image/png' } });
  if (response.status !== 200) throw new Error(`POST /predict: ${response.status} ${await response.text()}`);
  await response.json();
  return performance.now() - start;
}

try {
  for (let i = 0; i < 20; i++) await request();
  console.log(`\nPOST /predict (48x48 PNG, quick.yaml's model) on localhost; baseline: in-process predict of one image, ${baselinePerSecond.toFixed(0)}/s`);
  console.log(`${'clients'.padStart(7)}  ${'requests'.padStart(8)}  ${'req/s'.padStart(7)}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}  ${'x baseline'.padStart(10)}`);
  for (const clients of levels) {
    const latencies: number[] = [];
    const start = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (sent < maxRequests && performance.now() - start < maxSeconds * 1000) {
          sent++;
          latencies.push(await request());
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!;
    const perSecond = latencies.length / seconds;
    console.log(`${String(clients).padStart(7)}  ${String(latencies.length).padStart(8)}  ${perSecond.toFixed(0).padStart(7)}  ${at(0.5).toFixed(1).padStart(7)}  ${at(0.99).toFixed(1).padStart(7)}  ${(perSecond / baselinePerSecond).toFixed(2).padStart(10)}`);
  }
} finally {
  server.kill('SIGTERM');
}
