import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pluginRegistry } from '../../src/config/read.js';
import { activatePlugins } from '../../src/plugins/loader.js';
import type { FerRegistry } from '../../src/registry/index.js';
import type { LayerBuildContext } from '../../src/registry/layer-definition.js';
import type { Shape } from '../../src/core/tf.js';
import { loadModel, saveModel } from '../../src/store/model-io.js';
import { repoRoot, runFer, STACK_TRACE } from '../helpers/cli.js';
import { writeSyntheticFer2013Csv } from '../helpers/data.js';

/** The plugins shipped in plugins/: each layer's shape, gradients and save/reload, then whole runs. */
const SHIPPED: { spec: string; layer: string; args: Record<string, unknown>; weights: number }[] = [
  { spec: 'plugins/se', layer: 'se/squeeze_excite', args: { ratio: 2 }, weights: 4 },
  { spec: 'plugins/cbam', layer: 'cbam/attention', args: { ratio: 2, kernel_size: 3 }, weights: 6 },
  { spec: 'plugins/mish', layer: 'mish/mish', args: { learnable: true }, weights: 1 },
];

let registry: FerRegistry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  const loaded = await pluginRegistry(SHIPPED.map((s) => s.spec), repoRoot);
  expect(loaded.diagnostics).toEqual([]);
  registry = loaded.registry;
  activatePlugins(tf, registry);
});

function buildLayer(type: string, args: Record<string, unknown>, inputShape: Shape): tf.layers.Layer {
  const context: LayerBuildContext = {
    tf,
    name: type.replace('/', '_'),
    trainable: true,
    inputShapes: [inputShape],
    initializer: () => tf.initializers.zeros(),
    regularizer: () => undefined,
    activation: (name) => name,
    seed: () => 1234,
  };
  return registry.layers.get(type)!.build(args as never, context);
}

/** sum(layer(x) * r): a scalar whose gradient involves every output. */
function objective(layer: tf.layers.Layer, x: tf.Tensor, r: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r));
}

describe.each(SHIPPED)('plugin layer $layer', ({ layer: type, args, weights }) => {
  const shape = [2, 6, 6, 4];

  it('keeps the input shape and has its own trainable weights', () => {
    const layer = buildLayer(type, args, [null, 6, 6, 4]);
    const y = layer.apply(tf.randomNormal(shape, 0, 1, 'float32', 1)) as tf.Tensor;
    expect(y.shape).toEqual(shape);
    expect(layer.trainableWeights).toHaveLength(weights);
    expect(Number.isFinite(tf.sum(y).dataSync()[0]!)).toBe(true);
  });

  it('has gradients equal to finite differences, for its input and every weight', () => {
    const layer = buildLayer(type, args, [null, 6, 6, 4]);
    const x = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const r = tf.randomNormal(shape, 0, 1, 'float32', 3);
    layer.apply(x); // builds the weights
    // Move weights off their initial values (zeros, ones) so every path carries gradient.
    layer.setWeights(layer.getWeights().map((w, i) => tf.add(w, tf.randomNormal(w.shape, 0, 0.3, 'float32', 10 + i))));
    const variables = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const { grads } = tf.variableGrads(() => objective(layer, x, r), variables);
    const dx = tf.grad((input: tf.Tensor) => objective(layer, input, r))(x);
    // Small enough not to cross the kinks of max pooling and relu, large enough for float32.
    const eps = 3e-3;
    const check = (analytic: Float32Array, perturb: (index: number, delta: number) => void, size: number, label: string) => {
      for (const index of [0, Math.floor(size / 3), Math.floor((2 * size) / 3), size - 1]) {
        perturb(index, eps);
        const up = objective(layer, x, r).dataSync()[0]!;
        perturb(index, -2 * eps);
        const down = objective(layer, x, r).dataSync()[0]!;
        perturb(index, eps);
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(numeric - analytic[index]!), `${label}[${index}]: numeric ${numeric} analytic ${analytic[index]}`).toBeLessThan(5e-3 + 2e-2 * Math.abs(analytic[index]!));
      }
    };
    for (const v of variables) {
      const analytic = grads[v.name]!.dataSync() as Float32Array;
      check(analytic, (index, delta) => {
        const values = v.dataSync().slice();
        values[index]! += delta;
        v.assign(tf.tensor(values, v.shape));
      }, v.size, v.name);
    }
    const xValues = x.dataSync() as Float32Array;
    const analyticX = dx.dataSync() as Float32Array;
    for (const index of [0, 37, 100, xValues.length - 1]) {
      const at = (delta: number) => {
        const moved = xValues.slice();
        moved[index]! += delta;
        return objective(layer, tf.tensor(moved, shape), r).dataSync()[0]!;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(numeric - analyticX[index]!), `input[${index}]`).toBeLessThan(5e-3 + 2e-2 * Math.abs(analyticX[index]!));
    }
  });

  it('saves and reloads with the same outputs', async () => {
    const input = tf.input({ shape: [6, 6, 4] });
    const layer = buildLayer(type, args, [null, 6, 6, 4]);
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    model.layers[1]!.setWeights(model.layers[1]!.getWeights().map((w, i) => tf.add(w, tf.randomNormal(w.shape, 0, 0.3, 'float32', 20 + i))));
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-plugin-model-')), 'model');
    await saveModel(tf, model, dir);
    const reloaded = await loadModel(tf, dir);
    const x = tf.randomNormal([3, 6, 6, 4], 0, 1, 'float32', 5);
    expect(Array.from((reloaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    expect(reloaded.layers[1]!.getClassName()).toBe(model.layers[1]!.getClassName());
  });
});

describe('plugins from the command line', () => {
  const fixtures = path.join('test', 'fixtures', 'plugins');
  const cases: [string, RegExp, string][] = [
    ['missing.yaml', /missing\.yaml:4:5: error: plugin `\.\/not-there\.ts` not found/, 'relative to the config file'],
    ['throws.yaml', /throws\.yaml:2:11: error: plugin `\.\/throws\.ts` \(.*\) failed to load: cannot find the CUDA toolkit/, 'run it alone'],
    ['duplicate.yaml', /duplicate\.yaml:4:5: error: two plugins claim the name `dup`/, 'rename one of them'],
    ['no-name.yaml', /no-name\.yaml:2:11: error: plugin `\.\/no-name\.js` \(no-name\.js\): `name` must be lower_snake_case/, 'export default {'],
    ['bad-arg.yaml', /bad-arg\.yaml:7:29: error: unknown key `ratoi`/, 'did you mean `ratio`?'],
    ['unknown-layer.yaml', /unknown-layer\.yaml:7:9: error: unknown layer type `se\/squeeze_excit`/, 'did you mean `se/squeeze_excite`?'],
  ];
  it.each(cases)('%s is an error at its line and column, with help', async (file, message, help) => {
    const result = await runFer(['validate', path.join(fixtures, file)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain(help);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it('fer plugins list shows the shipped plugins and what each contributes', async () => {
    const result = await runFer(['plugins', 'list', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { plugins } = JSON.parse(result.stdout) as { plugins: { name: string; source: string; layers: { type: string }[]; templates: string[] }[] };
    expect(plugins.map((p) => p.name)).toEqual(['cbam', 'mish', 'robust', 'se']);
    expect(plugins.find((p) => p.name === 'se')).toMatchObject({ source: path.join('plugins', 'se', 'index.ts'), layers: [{ type: 'se/squeeze_excite' }], templates: ['se/conv_se_block'] });
  });

  it('fer schema --plugin includes plugin layers and their arguments', async () => {
    const result = await runFer(['schema', '--plugin', 'plugins/cbam']);
    expect(result.code, result.stderr).toBe(0);
    // Every value may also be a template expression, so the arguments sit in the `else` branch.
    const schema = JSON.parse(result.stdout) as { definitions: Record<string, { else?: { properties?: Record<string, unknown> } }> };
    expect(Object.keys(schema.definitions['layer.cbam.attention']!.else!.properties!)).toEqual(['ratio', 'kernel_size']);
    const plain = await runFer(['schema']);
    expect(plain.stdout).not.toContain('cbam');
  });

  it('a layer plugin written from an empty file works in a config (the guide\'s example)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-guide-'));
    writeFileSync(
      path.join(dir, 'scale.ts'),
      [
        "import type * as tfjs from '@tensorflow/tfjs';",
        "import type { FerPlugin } from 'ferkit/plugin';",
        '',
        'const plugin: FerPlugin = {',
        "  name: 'mine',",
        "  version: '0.1.0',",
        '  layers: [',
        '    {',
        "      type: 'scale',",
        "      summary: 'multiplies its input by a learned scalar',",
        "      args: { type: 'object', properties: { initial: { type: 'number', default: 1 } }, additionalProperties: false },",
        '      layerClass: (tf: typeof tfjs) =>',
        '        class Scale extends tf.layers.Layer {',
        "          static className = 'mine.Scale';",
        '          initial: number;',
        '          factor!: tfjs.LayerVariable;',
        '          constructor(config: { initial?: number; name?: string }) {',
        '            super(config);',
        '            this.initial = config.initial ?? 1;',
        '          }',
        '          override build() {',
        "            this.factor = this.addWeight('factor', [1], 'float32', tf.initializers.constant({ value: this.initial }));",
        '          }',
        '          override call(inputs: tfjs.Tensor | tfjs.Tensor[]) {',
        '            return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, this.factor.read()));',
        '          }',
        '          override getConfig() {',
        '            return { ...super.getConfig(), initial: this.initial };',
        '          }',
        '        },',
        '    },',
        '  ],',
        '};',
        '',
        'export default plugin;',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'config.yaml'),
      [
        `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}`,
        'name: guide',
        'plugins: [./scale.ts]',
        'models:',
        '  tiny:',
        '    layers:',
        '      - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: relu}',
        '      - mine/scale: {initial: 0.5}',
        '      - use: classifier_head',
        '        with: {units: [8]}',
        'training: {epochs: 1}',
        'folds: {k: 2}',
        'ensemble: {members: [{model: tiny, count: 1}]}',
        '',
      ].join('\n'),
    );
    const runs = path.join(dir, 'runs');
    const run = await runFer(['run', path.join(dir, 'config.yaml'), '--runs', runs, '--json'], { env: { MLFLOW_TRACKING_URI: '' } });
    expect(run.code, run.stderr).toBe(0);
    const runDir = path.join(runs, 'guide', readdirSync(path.join(runs, 'guide'))[0]!);
    const predict = await runFer(['predict', runDir, writeSyntheticFer2013Csv(100), '--json']);
    expect(predict.code, predict.stderr).toBe(0);
  });
});

describe.each(['se', 'cbam', 'mish'])('configs/plugins/%s-demo.yaml', (name) => {
  it('trains on the demo data, saves, and fer predict reloads the saved models', async () => {
    const runs = mkdtempSync(path.join(os.tmpdir(), `fer-${name}-`));
    const run = await runFer(['run', `configs/plugins/${name}-demo.yaml`, '--runs', runs, '--set', 'training.epochs=2', '--set', 'ensemble.members=[{model: tiny, count: 1}]', '--json'], {
      env: { MLFLOW_TRACKING_URI: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { runDir: string; state: string };
    expect(result.state).toBe('finished');
    const predict = await runFer(['predict', result.runDir, writeSyntheticFer2013Csv(100), '--json']);
    expect(predict.code, predict.stderr).toBe(0);
    const predictions = JSON.parse(predict.stdout) as { emotion: string; probabilities: Record<string, number> }[];
    expect(predictions).toHaveLength(700);
    expect(Object.values(predictions[0]!.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
  });
});
