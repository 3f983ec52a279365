import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/store/model-io.js';
import { ferBin, killAtEpoch, repoRoot, runFer } from '../helpers/cli.js';

/**
 * Starting from saved weights (models.<name>.init), freezing (models.<name>.frozen) and merged
 * classes, end to end: a 7-class demo run is the source of a 3-class model with a new head.
 */
const demo = path.join(repoRoot, 'configs', 'demo.yaml');
const HEAD = 'classifier_head_1/dense_1';
const BODY = ['conv_stack_1/conv_unit_1/conv2d_1', 'conv_stack_2/conv_unit_1/conv2d_1', 'classifier_head_1/dense_unit_1/dense_1'];
const oneMember = ['--set', 'ensemble.members=[{model: tiny, count: 1}]', '--set', 'training.epochs=2'];
const noTracking = { env: { MLFLOW_TRACKING_URI: '' } };

let dir: string;
let sourceRun: string;

function writeConfig(name: string, model: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `extends: ${demo}`,
      `name: ${name}`,
      'data:',
      '  merge_classes:',
      '    positive: [happy, surprise]',
      '    negative: [angry, disgust, fear, sad]',
      '    neutral: [neutral]',
      'models:',
      '  tiny:',
      model,
      '',
    ].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fer-transfer-'));
  const runs = path.join(dir, 'source-runs');
  const result = await runFer(['run', demo, '--runs', runs, ...oneMember], noTracking);
  expect(result.code, result.stderr).toBe(0);
  sourceRun = path.join(runs, 'demo', readdirSync(path.join(runs, 'demo'))[0]!);
}, 120_000);

describe('initial weights from a finished run', () => {
  it('fer compile reports exactly the layers loaded and the new ones', async () => {
    const file = writeConfig('t-report', `    init: {run: ${sourceRun}, member: tiny-1, exclude: ['${HEAD}']}`);
    const result = await runFer(['compile', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const init = (JSON.parse(result.stdout) as { models: { tiny: { init: { loaded: string[]; initialized: string[]; source: string; digest: string } } } }).models.tiny.init;
    expect(init.loaded).toEqual(BODY);
    expect(init.initialized).toEqual([HEAD]);
    expect(init.source).toMatch(/member tiny-1 \((fold-\d|all)\)$/);
    expect(init.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a layer whose shape changed is an error at its YAML line, with what to do', async () => {
    const file = writeConfig('t-mismatch', `    init: {run: ${sourceRun}}`);
    const result = await runFer(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/configs\/templates\/cnn\.yaml:\d+:\d+: error: layer `classifier_head_1\/dense_1`: its kernel is 32x3 here but 32x7 in /);
    expect(result.stderr).toContain('list it in init.exclude');
  });

  it('a layer with no counterpart is an error unless the load is partial', async () => {
    // 12x12x16 after the pooling: the same 2304 inputs as the source's dense layer, which loads.
    const layers = ['    layers:', '      - conv2d: {filters: 16, kernel_size: 3, padding: same, activation: relu}', '        name: fresh_conv', '      - max_pool2d: {pool_size: 4}', '      - use: classifier_head', '        with: {units: [32]}'];
    const strict = writeConfig('t-strict', [`    init: {run: ${sourceRun}, exclude: ['${HEAD}']}`, ...layers].join('\n'));
    const failed = await runFer(['validate', strict]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('layer `fresh_conv` has no counterpart');
    expect(failed.stderr).toContain('init.partial: true');
    const partial = writeConfig('t-partial', [`    init: {run: ${sourceRun}, exclude: ['${HEAD}'], partial: true}`, ...layers].join('\n'));
    const ok = await runFer(['compile', partial, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const init = (JSON.parse(ok.stdout) as { models: { tiny: { init: { loaded: string[]; initialized: string[] } } } }).models.tiny.init;
    expect(init).toEqual(expect.objectContaining({ loaded: ['classifier_head_1/dense_unit_1/dense_1'], initialized: ['fresh_conv', HEAD] }));
  });

  it('fine-tuning with a frozen body leaves the frozen weights bit-identical and trains the rest', async () => {
    const file = writeConfig('t-frozen', [`    init: {run: ${sourceRun}, member: tiny-1, exclude: ['${HEAD}']}`, "    frozen: ['conv_stack_*']"].join('\n'));
    const runs = path.join(dir, 'frozen-runs');
    const result = await runFer(['run', file, '--runs', runs, ...oneMember, '--json'], noTracking);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { runDir: string; summary: { classes: string[] } };
    expect(out.summary.classes).toEqual(['positive', 'negative', 'neutral']);
    const compiled = JSON.parse((await runFer(['compile', file, '--json'])).stdout) as { models: { tiny: { init: { source: string } } } };
    const sourceTask = /member (\S+) \((\S+)\)$/.exec(compiled.models.tiny.init.source)!;
    await tf.setBackend('cpu');
    const source = await loadModel(tf, path.join(sourceRun, 'tasks', sourceTask[1]!, sourceTask[2]!, 'model'));
    const tuned = await loadModel(tf, path.join(out.runDir, 'tasks', 'tiny-1', 'fold-0', 'model'));
    const weights = (model: tf.LayersModel, name: string) => model.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
    for (const frozen of BODY.slice(0, 2)) expect(weights(tuned, frozen), frozen).toEqual(weights(source, frozen));
    expect(weights(tuned, BODY[2]!)).not.toEqual(weights(source, BODY[2]!));
    expect(tuned.getLayer(HEAD).getWeights()[0]!.shape).toEqual([32, 3]);
  });
});

describe('staged fine-tuning', () => {
  it('trains the head with the body frozen, then everything at its own rate; metrics carry the stage', async () => {
    const file = writeConfig('t-staged', `    init: {run: ${sourceRun}, member: tiny-1, exclude: ['${HEAD}']}`);
    writeFileSync(
      file,
      readFileSync(file, 'utf8') +
        ['training:', '  optimizer: {adam: {learning_rate: 0.003}}', '  stages:', "    - {epochs: 2, frozen: ['conv_stack_*', 'classifier_head_1/dense_unit_*']}", '    - {epochs: 1, learning_rate: 0.0005}', ''].join('\n'),
    );
    const runs = path.join(dir, 'staged-runs');
    const result = await runFer(['run', file, '--runs', runs, '--set', 'ensemble.members=[{model: tiny, count: 1}]', '--json'], noTracking);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { runDir: string };
    const task = path.join(out.runDir, 'tasks', 'tiny-1', 'fold-0');
    const history = JSON.parse(readFileSync(path.join(task, 'metrics.json'), 'utf8')) as { epoch: number; stage: number; learning_rate: number }[];
    expect(history.map((m) => [m.epoch, m.stage, m.learning_rate])).toEqual([
      [1, 1, 0.003],
      [2, 1, 0.003],
      [3, 2, 0.0005],
    ]);
    expect(readFileSync(path.join(task, 'metrics.csv'), 'utf8').split('\n')[0]).toMatch(/,stage$/);
    // After stage 2 every layer has moved away from the source, the body included.
    await tf.setBackend('cpu');
    const compiled = JSON.parse((await runFer(['compile', file, '--json'])).stdout) as { models: { tiny: { init: { source: string } } } };
    const sourceTask = /member (\S+) \((\S+)\)$/.exec(compiled.models.tiny.init.source)!;
    const source = await loadModel(tf, path.join(sourceRun, 'tasks', sourceTask[1]!, sourceTask[2]!, 'model'));
    const tuned = await loadModel(tf, path.join(task, 'model'));
    const weights = (model: tf.LayersModel, name: string) => model.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
    for (const layer of BODY) expect(weights(tuned, layer), layer).not.toEqual(weights(source, layer));
  });
});

describe('staged training cut by SIGKILL', () => {
  it('resumes across the stage boundary and ends with the metrics of an uninterrupted run', async () => {
    const staged = [
      ...oneMember,
      '--workers',
      '1',
      '--set',
      'data.source.synthetic.rows_per_class=200',
      '--set',
      'training.stages=[{epochs: 2, frozen: [conv_stack_*]}, {epochs: 2, learning_rate: 0.001}]',
    ];
    const whole = path.join(dir, 'staged-whole');
    const uninterrupted = await runFer(['run', demo, '--runs', whole, ...staged], noTracking);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    const cut = path.join(dir, 'staged-cut');
    const child = spawn(process.execPath, [ferBin, 'run', demo, '--runs', cut, ...staged], { cwd: repoRoot, detached: true, stdio: 'ignore', env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    // Kill everything once the first task has finished stage 1 (two epochs).
    await killAtEpoch(child, cut, 'demo', 'tiny-1/fold-0', 2);
    const resumed = await runFer(['run', demo, '--runs', cut, ...staged], noTracking);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed after epoch [2-3]/);
    const history = (root: string, task: string) => {
      const run = readdirSync(path.join(root, 'demo')).find((d) => d.startsWith('run-'))!;
      const rows = JSON.parse(readFileSync(path.join(root, 'demo', run, 'tasks', 'tiny-1', task, 'metrics.json'), 'utf8')) as Record<string, number>[];
      return rows.map(({ seconds: _s, images_per_second: _i, ...rest }) => rest);
    };
    for (const task of ['fold-0', 'fold-1']) {
      expect(history(cut, task).map((m) => m.stage)).toEqual([1, 1, 2, 2]);
      expect(history(cut, task), task).toEqual(history(whole, task));
    }
  }, 300_000);
});

describe('initial weights from a tfjs model at a URL', () => {
  it('downloads model.json and its weights once into the cache, then loads them by layer name', async () => {
    const modelDir = path.join(sourceRun, 'tasks', 'tiny-1', 'fold-0', 'model');
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      try {
        res.end(readFileSync(path.join(modelDir, path.basename(req.url ?? ''))));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/model.json`;
    try {
      const file = writeConfig('t-url', `    init: {model: '${url}', exclude: ['${HEAD}']}`);
      const env = { FER_CACHE: path.join(dir, 'cache') };
      const first = await runFer(['compile', file, '--json'], { env });
      expect(first.code, first.stderr).toBe(0);
      const init = (JSON.parse(first.stdout) as { models: { tiny: { init: { loaded: string[]; source: string } } } }).models.tiny.init;
      expect(init.source).toBe(url);
      expect(init.loaded).toEqual(BODY);
      expect(requests).toBe(2);
      const again = await runFer(['compile', file, '--json'], { env });
      expect(again.code, again.stderr).toBe(0);
      expect(requests).toBe(2);
      const missing = writeConfig('t-url-missing', `    init: {model: '${url.replace('model.json', 'nothing.json')}'}`);
      const failed = await runFer(['validate', missing], { env });
      expect(failed.code).toBe(2);
      expect(failed.stderr).toMatch(/t-url-missing\.yaml:10:\d+: error: models\.tiny\.init\.model: .*nothing\.json answered HTTP 404/);
    } finally {
      server.close();
    }
  });
});
