import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isConfigError, type Diagnostic } from '../../src/core/diagnostic.js';
import { loadSweep } from '../../src/sweep/load.js';
import { overridesOf, paramsOf } from '../../src/sweep/space.js';
import { repoRoot } from '../helpers/cli.js';

/** The sweep section read against configs/demo.yaml: what it builds, and each mistake at its line. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-sweep-spec-'));
let counter = 0;

function sweepFile(section: string): string {
  const file = path.join(dir, `s${counter++}.yaml`);
  writeFileSync(file, `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}\nname: s\nsweep:\n${section}`);
  return file;
}

async function problems(section: string): Promise<Diagnostic[]> {
  try {
    await loadSweep(sweepFile(section), [], dir);
  } catch (error) {
    if (isConfigError(error)) return [...error.diagnostics];
    throw error;
  }
  return [];
}

const OBJECTIVE = '  objective: {metric: accuracy, split: validation}\n  budget: {trials: 4}\n';

describe('the sweep section', () => {
  it('builds a conditional space whose overrides set whole values, nested choices filled in', async () => {
    const sweep = await loadSweep(
      sweepFile(
        `  parameters:
    training.optimizer:
      choice:
        - {adam: {learning_rate: {loguniform: [1.0e-4, 1.0e-2]}}}
        - {sgd: {learning_rate: 0.05, momentum: {uniform: [0.8, 0.95]}, nesterov: true}}
    models.tiny.layers: {choice: [[flatten, {dense: {units: 7, activation: softmax}}]]}
${OBJECTIVE}`,
      ),
      [],
      dir,
    );
    expect(sweep.spec.space.dimensions.map((d) => [d.name, d.dist.kind, d.condition?.option])).toEqual([
      ['training.optimizer', 'choice', undefined],
      ['training.optimizer.adam.learning_rate', 'loguniform', 0],
      ['training.optimizer.sgd.momentum', 'uniform', 1],
      ['models.tiny.layers', 'choice', undefined],
    ]);
    const assignment = { 'training.optimizer': 1, 'training.optimizer.sgd.momentum': 0.9, 'models.tiny.layers': 0 };
    expect(overridesOf(sweep.spec.space, assignment)).toEqual([
      'training.optimizer={"sgd":{"learning_rate":0.05,"momentum":0.9,"nesterov":true}}',
      'models.tiny.layers=["flatten",{"dense":{"units":7,"activation":"softmax"}}]',
    ]);
    expect(paramsOf(sweep.spec.space, assignment)).toEqual({ 'training.optimizer': 'sgd', 'training.optimizer.sgd.momentum': 0.9, 'models.tiny.layers': ['flatten', { dense: { units: 7, activation: 'softmax' } }] });
    expect(sweep.spec.search).toMatchObject({ method: 'tpe', seed: 7, startupTrials: 5 });
    expect(sweep.spec.objective.direction).toBe('maximize');
  });

  it('names each mistake at its line: no distribution, a bad range, an unknown key, a grid over a continuous range', async () => {
    const found = await problems(`  parameters:
    training.batch_size: {chioce: [16, 32]}
    training.optimizer.adam.learning_rate: {loguniform: [0, 1.0e-2]}
    training.epochs: {int: [5, 2]}
  objective: {metric: accuracy, split: validation, goal: max}
  search: grid
  budget: {trials: 4}
`);
    const at = (d: Diagnostic) => `${d.span?.start.line}: ${d.message}${d.hint ? ` (${d.hint})` : ''}`;
    expect(found.map(at)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^5: `training.batch_size` has no distribution \(did you mean `choice`\?\)/),
        expect.stringMatching(/^6: loguniform \[0, 0.01\]: both ends must be above 0/),
        expect.stringMatching(/^7: int \[5, 2\]: low must be below high/),
        expect.stringMatching(/^8: sweep.objective has no `goal`/),
      ]),
    );
  });

  it('refuses a grid over a continuous parameter, and a random search without a budget', async () => {
    const grid = await problems(`  parameters:\n    training.optimizer.adam.learning_rate: {uniform: [1.0e-3, 1.0e-2]}\n  objective: {metric: accuracy}\n  search: grid\n`);
    expect(grid.map((d) => d.message)).toEqual(['grid search needs finite parameters, and `training.optimizer.adam.learning_rate` is uniform']);
    const budget = await problems(`  parameters:\n    training.epochs: {int: [1, 3]}\n  objective: {metric: accuracy}\n  search: random\n`);
    expect(budget.map((d) => d.message)).toEqual(['a random search needs a budget: trials, minutes, or both']);
  });

  it('asks for folds when the experiment has none, and for the oof split for macro-F1', async () => {
    expect(await problems(`  parameters:\n    training.epochs: {int: [1, 3]}\n${OBJECTIVE}`)).toEqual([]);
    const f1 = await problems(`  parameters:\n    training.epochs: {int: [1, 3]}\n  objective: {metric: macro_f1, split: validation}\n  budget: {trials: 2}\n`);
    expect(f1[0]?.hint).toContain('split: oof');
    const file = path.join(dir, 'nofolds.yaml');
    writeFileSync(file, `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}\nname: s\nsweep:\n  parameters:\n    training.epochs: {int: [1, 3]}\n${OBJECTIVE}`);
    const error = await loadSweep(file, ['~folds'], dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConfigError(error) && error.diagnostics[0]!.message).toMatch(/this experiment has no folds/);
  });
});
