import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inPool, repoRoot, runFer, STACK_TRACE, type CliResult } from './helpers/cli.js';

/**
 * The corpus of broken configs: each file's first line says where its (first) error must be
 * reported and what kind it is: `# expect: LINE:COL CODE [| words the help line must contain]`,
 * with `parts/FILE:` before LINE when the error is in a file it extends.
 */
const folder = path.join(repoRoot, 'test', 'fixtures', 'broken');
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

interface Expectation {
  file: string;
  where: string;
  code: string;
  hint?: string;
}

function expectationOf(file: string): Expectation {
  const first = readFileSync(path.join(folder, file), 'utf8').split('\n')[0]!;
  const match = /^# expect: (\S+) (\S+)(?: \| (.+))?$/.exec(first);
  if (!match) throw new Error(`${file} has no '# expect: LINE:COL CODE' first line`);
  return { file, where: match[1]!, code: match[2]!, ...(match[3] ? { hint: match[3] } : {}) };
}

const cases = files.map(expectationOf);
const target = (file: string) => path.join('test', 'fixtures', 'broken', file);
const textResults = new Map<string, CliResult>();
let jsonResult: CliResult;

beforeAll(async () => {
  // The text form one file per process (its exit code is the file's); the JSON form once for the
  // whole corpus, which also checks that one file's errors never leak into another's entry.
  const [json] = await Promise.all([
    runFer(['validate', '--json', ...cases.map((c) => target(c.file))]),
    inPool(cases, 4, async (c) => {
      textResults.set(c.file, await runFer(['validate', target(c.file)]));
    }),
  ]);
  jsonResult = json;
}, 600_000);

describe('broken configs', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('$file: exit 2, reported at $where as $code', (c) => {
    const text = textResults.get(c.file)!;
    expect(text.code, text.stderr).toBe(2);
    expect(text.stderr).not.toMatch(STACK_TRACE);
    expect(text.stderr).not.toMatch(/TypeError|ReferenceError|undefined is not/);

    const expectedFile = c.where.includes('parts/') ? `test/fixtures/broken/${c.where.split(':')[0]}` : `test/fixtures/broken/${c.file}`;
    const position = c.where.includes('parts/') ? c.where.split(':').slice(1).join(':') : c.where;
    // file:line:col: error: ..., as editors and terminals recognise it.
    expect(text.stderr).toContain(`${expectedFile}:${position}: error:`);

    const json = JSON.parse(jsonResult.stdout) as {
      ok: boolean;
      files: { file: string; ok: boolean; diagnostics: { file: string; line: number; column: number; code: string; hint?: string; path?: string }[] }[];
    };
    expect(jsonResult.code).toBe(2);
    expect(json.ok).toBe(false);
    expect(json.files.map((f) => f.file)).toEqual(cases.map((x) => target(x.file)));
    const entry = json.files.find((f) => f.file === target(c.file))!;
    expect(entry.ok).toBe(false);
    const diagnostics = entry.diagnostics;
    const [line, column] = position.split(':').map(Number);
    const match = diagnostics.find((d) => d.line === line && d.column === column && d.file === expectedFile);
    expect(match, JSON.stringify(diagnostics, null, 1)).toBeDefined();
    expect(match!.code).toBe(c.code);
    if (c.hint) expect(`${match!.hint ?? ''} ${text.stderr}`).toContain(c.hint);
  });
});
