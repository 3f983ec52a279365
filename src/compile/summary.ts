import { formatLocation } from '../core/diagnostic-format.js';
import { formatShape } from '../core/tf.js';
import type { CompiledModel } from './model-builder.js';

const count = (n: number) => n.toLocaleString('en-US');

/** Pads columns to their widest cell; the last column is not padded. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

/**
 * A Keras-like summary with one more column: where each layer is written in the YAML (and the
 * templates it came through), so an edit in the config is easy to find in the graph and back.
 */
export function formatSummary(compiled: CompiledModel, cwd?: string): string {
  const rows: string[][] = [['Layer', 'Type', 'Output shape', 'Params', 'Inputs', 'Defined at']];
  let previous: string | undefined;
  for (const layer of compiled.layers) {
    const inputs = layer.inputs.length === 1 && layer.inputs[0] === previous ? '' : layer.inputs.join(', ');
    const where = layer.span ? formatLocation(layer.span, cwd) : '';
    const via = layer.via.length > 0 ? ` (${layer.via.join(' > ')})` : '';
    rows.push([
      layer.name,
      layer.type + (layer.trainable || layer.type === 'input' ? '' : ' (frozen)'),
      formatShape(layer.outputShape),
      count(layer.params),
      inputs,
      where + via,
    ]);
    previous = layer.name;
  }
  const lines = table(rows);
  const rule = '-'.repeat(Math.max(...lines.map((l) => l.length)));
  const frozen = compiled.params - compiled.trainableParams;
  return [
    `Model: ${compiled.name}`,
    rule,
    lines[0]!,
    rule,
    ...lines.slice(1),
    rule,
    `Total params: ${count(compiled.params)}`,
    `Trainable params: ${count(compiled.trainableParams)}`,
    `Non-trainable params: ${count(frozen)}${frozen > 0 ? ' (batch-norm moving statistics, frozen layers)' : ''}`,
  ].join('\n');
}
