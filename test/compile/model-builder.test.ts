import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel, compileModels } from '../../src/compile/model-builder.js';
import { formatSummary } from '../../src/compile/summary.js';
import { loadConfig } from '../../src/config/load.js';
import { loadTf } from '../../src/backend/load-tf.js';
import { createRegistry } from '../../src/registry/index.js';
import type { Tf } from '../../src/core/tf.js';
import { repoRoot } from '../helpers/cli.js';

let tf: Tf;
beforeAll(async () => {
  tf = await loadTf();
});

function configFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fer-compile-'));
  const file = path.join(dir, 'exp.yaml');
  writeFileSync(file, text);
  return file;
}

describe('the reference models', () => {
  it('compile to the parameter counts of the 2017 Keras models', () => {
    const loaded = loadConfig(path.join(repoRoot, 'configs', 'ensemble16.yaml'));
    const [cnn, resnet] = compileModels(loaded, ['cnn', 'resnet18'], { tf, initialize: false });
    expect(cnn!.params).toBe(741_191);
    expect(cnn!.trainableParams).toBe(741_191);
    expect(resnet!.params).toBe(11_184_647);
    // Batch-norm moving statistics are the only frozen weights: 2 per channel of each batch norm.
    expect(resnet!.params - resnet!.trainableParams).toBe(7_808);
    const projections = resnet!.layers.filter((l) => l.name.endsWith('/shortcut'));
    expect(projections.map((l) => l.name)).toEqual([
      'resnet_stage_2/preact_basic_block_1/shortcut',
      'resnet_stage_3/preact_basic_block_1/shortcut',
      'resnet_stage_4/preact_basic_block_1/shortcut',
    ]);
    cnn!.model.dispose();
    resnet!.model.dispose();
  });

  it('skips the pre-activation of the first block only', () => {
    const loaded = loadConfig(path.join(repoRoot, 'configs', 'resnet18.yaml'));
    const resnet = compileModel(loaded, 'resnet18', { tf, initialize: false });
    const names = resnet.layers.map((l) => l.name);
    expect(names).not.toContain('resnet_stage_1/preact_basic_block_1/batch_norm_2');
    expect(names).toContain('resnet_stage_1/preact_basic_block_2/batch_norm_2');
    expect(names).toContain('resnet_stage_1/preact_basic_block_1/batch_norm_1');
    // The identity shortcut: the first block's add takes the stem's max pooling directly.
    const add = resnet.layers.find((l) => l.name === 'resnet_stage_1/preact_basic_block_1/add_1')!;
    expect(add.inputs).toEqual(['resnet_stem_1/max_pool2d_1', 'resnet_stage_1/preact_basic_block_1/residual']);
    resnet.model.dispose();
  });
});

describe('initial weights', () => {
  const text = [
    'seed: 11',
    'data: {source: {synthetic: {}}, classes: [a, b, c], image: {height: 12, width: 12}}',
    'models:',
    '  m:',
    '    layers:',
    '      - conv2d: {filters: 4, kernel_size: 3, kernel_initializer: he_normal}',
    '      - batch_norm',
    '      - flatten',
    '      - dense: {units: $classes, activation: softmax, kernel_initializer: {variance_scaling: {scale: 2}}}',
  ].join('\n');

  const weights = (seedOverride: string[]) => {
    const loaded = loadConfig(configFile(text), { overrides: seedOverride });
    const model = compileModel(loaded, 'm', { tf }).model;
    const values = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return values;
  };

  it('are the same for the same seed, built twice in one process', () => {
    expect(weights([])).toEqual(weights([]));
  });

  it('differ with the seed', () => {
    const a = weights([]);
    const b = weights(['seed=12']);
    expect(a[0]).not.toEqual(b[0]);
    expect(a[1]).toEqual(b[1]); // the conv bias starts at zero either way
  });
});

describe('layer lists', () => {
  const header = 'data: {source: {synthetic: {}}, classes: [a, b], image: {height: 8, width: 8, channels: 3}}\n';

  it('passes the input of a skipped entry on, under the entry name', () => {
    const loaded = loadConfig(
      configFile(
        header +
          'models:\n  m:\n    layers:\n      - conv2d: {filters: 2, kernel_size: 1}\n        name: proj\n        input: input\n        if: false\n      - add: {}\n        inputs: [proj, input]\n      - flatten\n      - dense: {units: $classes}\n',
      ),
    );
    const model = compileModel(loaded, 'm', { tf, initialize: false });
    expect(model.layers.find((l) => l.type === 'add')!.inputs).toEqual(['input', 'input']);
    expect(model.layers.some((l) => l.type === 'conv2d')).toBe(false);
    model.model.dispose();
  });

  it('repeats entries with an index and freezes with trainable: false', () => {
    const loaded = loadConfig(
      configFile(
        header +
          'models:\n  m:\n    layers:\n      - conv2d: {filters: "$(4 * (index + 1))", kernel_size: 3, padding: same}\n        repeat: 3\n        trainable: false\n      - global_avg_pool2d\n      - dense: {units: $classes}\n',
      ),
    );
    const model = compileModel(loaded, 'm', { tf, initialize: false });
    const convs = model.layers.filter((l) => l.type === 'conv2d');
    expect(convs.map((l) => [l.name, l.outputShape[3], l.trainable])).toEqual([
      ['conv2d_1', 4, false],
      ['conv2d_2', 8, false],
      ['conv2d_3', 12, false],
    ]);
    expect(model.trainableParams).toBe(12 * 2 + 2);
    expect(formatSummary(model)).toContain('conv2d (frozen)');
    model.model.dispose();
  });

  it('names template instances as scopes and records where each layer is written', () => {
    const loaded = loadConfig(path.join(repoRoot, 'configs', 'cnn.yaml'));
    const model = compileModel(loaded, 'cnn', { tf, initialize: false });
    const first = model.layers[1]!;
    expect(first.name).toBe('conv_stack_1/conv_unit_1/conv2d_1');
    expect(first.via).toEqual(['conv_stack', 'conv_unit']);
    expect(first.span!.file).toBe(path.join(repoRoot, 'configs', 'templates', 'cnn.yaml'));
    expect(formatSummary(model)).toMatch(/Total params: 741,191/);
    model.model.dispose();
  });
});

describe('every registered layer', () => {
  /** Required arguments of each layer, for a minimal instance. */
  const required: Record<string, Record<string, unknown>> = {
    conv2d: { filters: 3, kernel_size: 3 },
    separable_conv2d: { filters: 3, kernel_size: 3 },
    conv2d_transpose: { filters: 3, kernel_size: 3 },
    depthwise_conv2d: { kernel_size: 3 },
    dense: { units: 3 },
    dropout: { rate: 0.2 },
    spatial_dropout2d: { rate: 0.2 },
    gaussian_dropout: { rate: 0.2 },
    alpha_dropout: { rate: 0.2 },
    gaussian_noise: { stddev: 0.1 },
    reshape: { target_shape: [-1] },
    cropping2d: { cropping: 1 },
    rescaling: { scale: 0.5 },
    activation: { activation: 'relu' },
  };
  const registry = createRegistry();

  it.each(registry.layers.types())('%s builds, applies and counts its parameters', (type) => {
    const definition = registry.layers.get(type)!;
    const args = JSON.stringify(required[type] ?? {});
    const multiple = definition.inputs === 'multiple';
    const vector = type === 'dense';
    const lines = [
      'data: {source: {synthetic: {}}, classes: [a, b], image: {height: 8, width: 8, channels: 3}}',
      'models:',
      '  m:',
      '    layers:',
      ...(vector ? ['      - flatten'] : []),
      ...(multiple
        ? ['      - conv2d: {filters: 3, kernel_size: 1}', '        name: branch', `      - ${type}: ${args}`, '        inputs: [input, branch]']
        : [`      - ${type}: ${args}`]),
      '      - flatten: {}',
      '        if: $(len(in_shape) > 1)',
      '      - dense: {units: $classes, activation: softmax}',
    ];
    const loaded = loadConfig(configFile(lines.join('\n')));
    const model = compileModel(loaded, 'm', { tf });
    expect(model.layers.some((l) => l.type === type)).toBe(true);
    expect(model.params).toBe(model.layers.reduce((s, l) => s + l.params, 0));
    model.model.dispose();
  });
});

describe('against the hand-written tfjs reference models', () => {
  it('builds the same layers (output shapes and parameter counts)', async () => {
    const { handWrittenCnn, handWrittenResnet18 } = await import('../../bench/baselines/reference-models.js');
    const loaded = loadConfig(path.join(repoRoot, 'configs', 'ensemble16.yaml'));
    const ours = compileModels(loaded, ['cnn', 'resnet18'], { tf, initialize: false });
    const theirs = [handWrittenCnn(tf), handWrittenResnet18(tf)];
    ours.forEach((model, i) => {
      const signature = (layers: { outputShape: unknown; countParams(): number }[]) =>
        layers.map((l) => `${JSON.stringify(l.outputShape)}:${l.countParams()}`).sort();
      expect(signature(model.model.layers as never)).toEqual(signature(theirs[i]!.layers as never));
      expect(model.params).toBe(theirs[i]!.countParams());
      model.model.dispose();
      theirs[i]!.dispose();
    });
  });
});
