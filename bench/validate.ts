/**
 * How validation time grows with the size of a config: a generated 5 MB config with 93,616 keys in
 * one map (`tracking.tags`), validated by fer against only parsing its YAML (the floor any
 * validator pays), measured in the same run. Validation must stay linear: under 5 s for 5 MB.
 *   npm run bench -- validate
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { createRegistry } from '../src/registry/index.js';
import { median, printMachine, printTable } from './report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const keys = 93_616;

function bigConfig(): string {
  const lines = [
    'name: big',
    'data:',
    '  source:',
    '    synthetic: {rows_per_class: 8, splits: [train, test]}',
    '  split: {train: train, test: test}',
    'models:',
    '  tiny:',
    '    layers:',
    '      - flatten: {}',
    '      - dense: {units: 7, activation: softmax}',
    'tracking:',
    '  tags:',
  ];
  for (let i = 0; i < keys; i++) lines.push(`    experiment_annotation_key_${String(i).padStart(6, '0')}: "annotation x"`);
  return `${lines.join('\n')}\n`;
}

printMachine('validate');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-bench-validate-'));
const file = path.join(dir, 'big.yaml');
const text = bigConfig();
fs.writeFileSync(file, text);
const megabytes = Buffer.byteLength(text) / 1e6;

const time = (fn: () => void): number => {
  const start = performance.now();
  fn();
  return performance.now() - start;
};
const registry = createRegistry();
const parse: number[] = [];
const validate: number[] = [];
const cli: number[] = [];
const validateCpu: number[] = [];
for (let i = 0; i < repeats; i++) {
  parse.push(time(() => parseAllDocuments(text, { lineCounter: new LineCounter(), uniqueKeys: false })));
  const cpu = process.cpuUsage();
  validate.push(time(() => loadConfig(file, { registry })));
  const used = process.cpuUsage(cpu);
  validateCpu.push((used.user + used.system) / 1000);
  const start = performance.now();
  const run = spawnSync(process.execPath, [path.join(root, 'bin', 'fer.js'), 'validate', file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`fer validate failed: ${run.stderr}`);
  cli.push(performance.now() - start);
}
fs.rmSync(dir, { recursive: true, force: true });

const base = median(parse);
printTable(`validate: a ${megabytes.toFixed(1)} MB config, ${keys.toLocaleString('en-US')} keys in one map, median of ${repeats}`, [
  ['yaml: parse only, no checks (baseline)', base, 1],
  ['fer: read + validate (loadConfig)', median(validate), median(validate) / base],
  ['fer: read + validate, CPU time (the machine may be shared)', median(validateCpu), median(validateCpu) / base],
  ['`fer validate big.yaml`, whole process', median(cli), median(cli) / base],
]);
const limit = 5000;
console.log(`\nfer validate ${median(cli) <= limit ? 'within' : 'OVER'} the ${limit / 1000} s budget for 5 MB`);
