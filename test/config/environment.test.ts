import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostic.js';
import { substituteEnvironment } from '../../src/config/environment.js';
import { nodeAt, toPlain, type LocatedScalar } from '../../src/config/located.js';
import { readYaml } from '../../src/config/yaml-reader.js';

function substitute(text: string, env: Record<string, string>) {
  const diagnostics: Diagnostic[] = [];
  const root = substituteEnvironment(readYaml(text, '/cfg/a.yaml').root!, env, '/shell', diagnostics);
  return { value: toPlain(root) as Record<string, unknown>, root, diagnostics };
}

describe('environment substitution', () => {
  it('replaces ${NAME} and keeps the text around it', () => {
    expect(substitute('p: ${DATA}/fer.csv\n', { DATA: '/d' }).value).toEqual({ p: '/d/fer.csv' });
  });

  it('uses the default when unset (:- also when empty, - only when unset)', () => {
    expect(substitute('a: ${X:-dflt}\nb: ${X-dflt}\n', {}).value).toEqual({ a: 'dflt', b: 'dflt' });
    // An empty plain value is YAML's empty scalar, null: `uri: ${MLFLOW_TRACKING_URI-}` means unset.
    expect(substitute('a: ${X:-dflt}\nb: ${X-dflt}\nc: "${X-dflt}"\n', { X: '' }).value).toEqual({ a: 'dflt', b: null, c: '' });
  });

  it('gives a plain whole-value substitution its YAML type; quoted values stay strings', () => {
    expect(substitute('a: ${N:-40}\nb: "${N:-40}"\nc: ${T}\n', { T: 'true' }).value).toEqual({ a: 40, b: '40', c: true });
  });

  it('treats $${ as a literal ${', () => {
    expect(substitute('a: price $${X}\n', {}).value).toEqual({ a: 'price ${X}' });
  });

  it('reports an unset variable at its position, with how to fix it', () => {
    const { diagnostics } = substitute('name: x\npath: data/${MISSING}/f.csv\n', {});
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toBe('environment variable MISSING is not set');
    expect(diagnostics[0]!.span!.start).toEqual({ line: 2, column: 12 });
    expect(diagnostics[0]!.hint).toContain('${MISSING:-default}');
  });

  it('reports ${NAME:?message} with the message', () => {
    const { diagnostics } = substitute('p: ${FER_DATA:?point it at the FER2013 folder}\n', {});
    expect(diagnostics[0]!.message).toBe('environment variable FER_DATA is not set: point it at the FER2013 folder');
  });

  it('makes a value that starts with an environment value relative to the shell folder', () => {
    const { root } = substitute('a: ${D}/x\nb: ${Z:-rel}/x\n', { D: 'data' });
    expect((nodeAt(root, ['a']) as LocatedScalar).baseDir).toBe('/shell');
    expect((nodeAt(root, ['b']) as LocatedScalar).baseDir).toBe('/cfg');
  });
});
