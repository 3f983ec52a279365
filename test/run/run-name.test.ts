import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mlmodelText } from '../../src/run/model-package.js';
import { childRunName, foldLabel, parentRunName, shortRunId } from '../../src/run/run-name.js';

describe('run names', () => {
  it('a parent is its config name plus its overrides, else a short id of its run folder', () => {
    expect(parentRunName('demo', 'run-3f9a2c1d7e40', [])).toBe('demo 3f9a2c1');
    expect(parentRunName('demo', 'run-3f9a2c1d7e40-2', [])).toBe('demo 3f9a2c1-2');
    expect(parentRunName('demo', 'run-3f9a2c1d7e40', ['training.epochs=4', 'seed=3'])).toBe('demo training.epochs=4 seed=3');
    // Where it is reported is not what it is.
    expect(parentRunName('demo', 'run-3f9a2c1d7e40', ['tracking.register=x'])).toBe('demo 3f9a2c1');
    expect(shortRunId('elsewhere')).toBe('elsewhere');
  });

  it('a child carries the fold number its task key and fer.fold tag hold', () => {
    expect(childRunName('demo 3f9a2c1', 'tiny-1/fold-0')).toBe('demo 3f9a2c1/tiny-1/fold-0');
    expect(foldLabel(0)).toBe('0');
    expect(foldLabel(null)).toBe('all');
  });
});

describe('MLmodel', () => {
  it('has fer as its flavor and a signature of uint8 pixels in, one named float per class out', () => {
    const text = mlmodelText({ name: 'ensemble', image: { height: 48, width: 48, channels: 1 }, classes: ['angry', 'happy'], created: '2026-01-02T03:04:05.000Z', flavor: { kind: 'ensemble' } });
    const doc = parse(text) as { artifact_path: string; flavors: Record<string, unknown>; signature: { inputs: string; outputs: string }; utc_time_created: string };
    expect(doc.artifact_path).toBe('ensemble');
    expect(doc.flavors).toEqual({ fer: { kind: 'ensemble' } });
    expect(JSON.parse(doc.signature.inputs)).toEqual([{ type: 'tensor', 'tensor-spec': { dtype: 'uint8', shape: [-1, 48, 48, 1] } }]);
    expect(JSON.parse(doc.signature.outputs)).toEqual([
      { type: 'float', name: 'angry', required: true },
      { type: 'float', name: 'happy', required: true },
    ]);
    expect(doc.utc_time_created).toBe('2026-01-02 03:04:05.000');
  });
});
