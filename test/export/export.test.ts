import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/export/graph-builder.js';
import { graphModel } from '../../src/export/graph-model.js';
import { flipHorizontalView } from '../../src/export/test-time-views.js';
import { SavedEnsemble } from '../../src/predict/saved-ensemble.js';
import { inPool, repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';

const run = promisify(execFile);
const LOADER = path.join(repoRoot, 'test', 'export', 'load-with-tfjs.mjs');

/** Tiny runs of real configs: synthetic images (no FER2013 needed), one epoch. */
const TINY = ['--workers', '1', '--tracking-uri', 'none', '--set', 'data.source={synthetic: {rows_per_class: 3, splits: [train, test], noise: 0.5}}', '--set', 'data.split={train: train, test: test}', '--set', 'training.epochs=1', '--set', 'data.class_weight=none'];

const RUNS: Record<string, { config: string; set: string[] }> = {
  // The reference CNN, two fold models averaged in the graph (members combined: the demo below).
  cnn: { config: 'configs/cnn.yaml', set: ['folds.k=2'] },
  // ResNet-18: residual branches (Add), batch norm, L2 penalties; two fold models.
  resnet18: { config: 'configs/resnet18.yaml', set: ['folds.k=2'] },
  // quick.yaml: batch norm, dropout, per-image standardisation.
  quick: { config: 'configs/quick.yaml', set: [] },
  // The demo with a per-pixel mean, 3 channels, fitted member weights and the flip view at test time (after preprocessing, as the run predicts).
  demo: { config: 'configs/demo.yaml', set: ['data.preprocess=[{subtract_mean: {per: pixel}}, {scale: {factor: 0.00392156862745098}}, to_rgb]', 'ensemble.combine=weighted_mean', 'ensemble.fit_weights=true', 'evaluation.tta=[flip]'] },
  'mish-demo': { config: 'configs/plugins/mish-demo.yaml', set: [] },
};

/** Raw pixels of `count` 48x48 gray images: smooth patterns plus a seeded texture, all 0-255. */
function images(count: number): Float32Array {
  const out = new Float32Array(count * 48 * 48);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < 48 * 48; i++) {
      const y = Math.floor(i / 48);
      const x = i % 48;
      out[n * 2304 + i] = Math.round(127.5 + 90 * Math.sin((x * (n + 1)) / 7 + y / 5) + 37 * Math.sin(i * 12.9898 + n) * Math.cos(i * 78.233));
    }
  }
  return out.map((v) => Math.min(255, Math.max(0, v)));
}

/** The export loaded by stock TensorFlow.js in a child process that knows nothing of fer. */
async function loadInChild(dir: string, pixels: Float32Array): Promise<{ classes: string[]; shape: number[]; probabilities: number[]; layers: string[] }> {
  const file = path.join(tempDir('fer-export-images-'), 'images.json');
  writeFileSync(file, JSON.stringify({ shape: [pixels.length / 2304, 48, 48, 1], pixels: Array.from(pixels) }));
  const { stdout } = await run(process.execPath, [LOADER, dir, file], { cwd: repoRoot, maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as { classes: string[]; shape: number[]; probabilities: number[]; layers: string[] };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('fer export', () => {
  const runsDir = tempDir('fer-export-runs-');
  const runDirs: Record<string, string> = {};
  const pixels = images(3);

  beforeAll(async () => {
    await inPool(Object.entries(RUNS), 2, async ([name, { config, set }]) => {
      const result = await runFer(['run', config, '--runs', runsDir, ...TINY, ...set.flatMap((s) => ['--set', s])]);
      expect(result.code, result.stderr).toBe(0);
      const experiment = path.join(runsDir, name);
      runDirs[name] = path.join(experiment, readdirSync(experiment).find((d) => d.startsWith('run-'))!);
    });
  }, 240_000);

  const cases = ['cnn', 'resnet18', 'quick', 'demo'].flatMap((name) => ['tfjs-layers', 'tfjs-graph'].map((format) => [name, format] as const));
  it.each(cases)('%s as %s: stock TensorFlow.js gives the probabilities fer predict gives (max abs diff < 1e-5)', async (name, format) => {
    const out = path.join(tempDir('fer-export-'), name);
    const exported = await runFer(['export', runDirs[name]!, '--format', format, '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`${format} model`);
    const loaded = await loadInChild(out, pixels);
    const ensemble = await SavedEnsemble.open(runDirs[name]!);
    const expected = await ensemble.predict(pixels);
    expect(loaded.classes).toEqual(ensemble.classes);
    expect(loaded.shape).toEqual([3, ensemble.classes.length]);
    expect(loaded.layers.filter((l) => l.startsWith('Fer'))).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')).format).toBe(format === 'tfjs-graph' ? 'graph-model' : 'layers-model');
    const diff = maxAbsDiff(loaded.probabilities, expected.probabilities);
    console.log(`${name} (${format}): max abs difference ${diff.toExponential(2)} over ${loaded.probabilities.length} probabilities`);
    expect(diff).toBeLessThan(1e-5);
    // Not a degenerate check: the images get different probabilities.
    expect(maxAbsDiff(loaded.probabilities.slice(0, 7), loaded.probabilities.slice(14, 21))).toBeGreaterThan(1e-6);
    const metadata = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')) as { userDefinedMetadata: { fer: { input: object; combine: string } } };
    expect(metadata.userDefinedMetadata.fer.input).toEqual({ name: 'pixels', height: 48, width: 48, channels: 1, range: [0, 255] });
    expect(metadata.userDefinedMetadata.fer.combine).toBe(ensemble.method);
  }, 180_000);

  it('--member exports one member: its probabilities are that member\'s', async () => {
    const out = path.join(tempDir('fer-export-'), 'member');
    const exported = await runFer(['export', runDirs.demo!, '--member', 'tiny-2', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const ensemble = await SavedEnsemble.open(runDirs.demo!);
    const expected = await ensemble.predict(pixels);
    const index = ensemble.members.findIndex((m) => m.member === 'tiny-2');
    expect(maxAbsDiff((await loadInChild(out, pixels)).probabilities, expected.members[index]!)).toBeLessThan(1e-5);
    const wrong = await runFer(['export', runDirs.demo!, '--member', 'tiny-3', '--out', out]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the run has no member `tiny-3` (it has tiny-1, tiny-2)');
  }, 60_000);

  it('a plugin layer: a clear error naming the layer, no stack, nothing written', async () => {
    const out = path.join(tempDir('fer-export-'), 'mish');
    const result = await runFer(['export', runDirs['mish-demo']!, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: the layer `[^`]*mish[^`]*` is a mish\.Mish of the plugin `mish`, which has no portable form/);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(() => readdirSync(out)).toThrow();
  });

  it('the flip view (test-time augmentation) mirrors an image exactly, in stock layers', async () => {
    const graph = new GraphBuilder();
    graph.define('pixels', 'InputLayer', { batch_input_shape: [null, 4, 5, 2], dtype: 'float32', sparse: false });
    const output = flipHorizontalView.build(graph, { height: 4, width: 5, channels: 2 })(['pixels', 0, 0, {}]);
    const { topology, weightSpecs, weightData } = graph.build('flip', 'pixels', output);
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs, weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) }));
    const x = tf.tensor4d(Array.from({ length: 40 }, (_, i) => i * 7 - 100), [1, 4, 5, 2]);
    expect(Array.from(await (model.predict(x) as tf.Tensor).data())).toEqual(Array.from(await tf.reverse(x, 2).data()));
    // The same view as graph ops.
    const ops = graphModel(topology, weightSpecs, weightData);
    const graphModelLoaded = await tf.loadGraphModel(
      tf.io.fromMemory({ modelTopology: { node: ops.nodes, library: {}, versions: {} }, weightSpecs: ops.weightSpecs, weightData: ops.weightData.buffer.slice(ops.weightData.byteOffset, ops.weightData.byteOffset + ops.weightData.byteLength) }),
    );
    expect(Array.from(await (graphModelLoaded.predict(x) as tf.Tensor).data())).toEqual(Array.from(await tf.reverse(x, 2).data()));
  });
});
