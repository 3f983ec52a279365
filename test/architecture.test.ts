import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli.js';

/**
 * The map of src/ (.dependency-cruiser.cjs, docs/architecture.md) is enforced by `npm run lint`.
 * These tests show the rules bite: a fixture tree laid out like src/ breaks each rule once.
 */
const run = promisify(execFile);
const depcruise = path.join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

async function violations(tree: string): Promise<Violation[]> {
  const { stdout } = await run(process.execPath, [depcruise, tree, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: repoRoot, maxBuffer: 64 << 20 });
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('the architecture map', () => {
  it('holds for src/: no import runs back up the flow, no cycle, tfjs loaded by backend/ only', async () => {
    expect(await violations('src')).toEqual([]);
  });

  it('reports an upward import, a cycle, tfjs loaded outside backend/, and a folder not on the map', async () => {
    const found = (await violations('test/fixtures/architecture/src')).map((v) => `${v.rule.name}: ${path.basename(v.from)}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'config-imports-only-core-registry-schema-plugins: imports-upward.ts',
        'no-cycles: cycle-a.ts',
        'only-backend-loads-tensorflow: loads-tensorflow.ts',
        'no-unknown-folder: unmapped.ts',
      ]),
    );
    expect(found).toHaveLength(4);
  });

  it('makes npm run lint fail on the fixture tree', async () => {
    const failure = await run(process.execPath, [depcruise, 'test/fixtures/architecture/src', '--config', '.dependency-cruiser.cjs'], { cwd: repoRoot }).then(
      () => undefined,
      (error: { code?: number; stdout?: string }) => error,
    );
    // dependency-cruiser exits with the number of errors it found: non-zero fails `npm run lint`.
    expect(failure?.code).toBe(4);
    expect(failure?.stdout).toMatch(/4 dependency violations \(4 errors/);
  });

  it('is the map docs/architecture.md draws: the same folders, each allowed the same imports', () => {
    const config = createRequire(import.meta.url)(path.join(repoRoot, '.dependency-cruiser.cjs')) as { forbidden: { name: string; comment: string }[] };
    const fromRules = new Map(
      config.forbidden
        .filter((rule) => /^[a-z]+-imports-only-/.test(rule.name))
        .map((rule) => {
          const [folder, allowed] = rule.name.split('-imports-only-') as [string, string];
          return [folder, allowed === 'itself' ? [] : allowed.split('-')] as const;
        }),
    );
    const table = readFileSync(path.join(repoRoot, 'docs', 'architecture.md'), 'utf8')
      .split('\n')
      .filter((line) => /^\| `[a-z]+\/` \|/.test(line))
      .map((line) => {
        const cells = line.split('|').map((c) => c.trim());
        return [cells[1]!.replace(/[`/]/g, ''), cells[3]!] as const;
      });
    const everything = [...fromRules.keys()];
    const fromDocs = new Map(
      table.map(([folder, imports]) => {
        if (imports === 'nothing of fer') return [folder, []];
        if (imports === 'everything') return [folder, everything.filter((f) => f !== folder)];
        const but = /^everything above but (.+)$/.exec(imports);
        if (but) {
          const excluded = but[1]!.split(/, | and /).map((f) => f.trim());
          return [folder, everything.slice(0, everything.indexOf(folder)).filter((f) => !excluded.includes(f))];
        }
        return [folder, imports.split(',').map((f) => f.trim())];
      }),
    );
    expect(new Set(fromDocs.keys())).toEqual(new Set(fromRules.keys()));
    for (const [folder, allowed] of fromRules) expect([folder, [...(fromDocs.get(folder) ?? [])].sort()]).toEqual([folder, [...allowed].sort()]);
  });
});
