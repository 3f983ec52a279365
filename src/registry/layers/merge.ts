import { Type } from '@sinclair/typebox';
import { defineLayer, type LayerDefinition } from '../layer-definition.js';
import { formatShape, type Shape } from '../../core/tf.js';
import { args } from '../schema-helpers.js';

function named(shapes: readonly Shape[], names: readonly string[]): string {
  return shapes.map((s, i) => `\`${names[i] ?? `input ${i + 1}`}\` ${formatShape(s)}`).join(', ');
}

function atLeastTwo(type: string, shapes: readonly Shape[]): string | undefined {
  return shapes.length < 2 ? `${type} merges two or more tensors; list them with \`inputs: [a, b]\`` : undefined;
}

/** Element-wise merges need identical shapes (tfjs would broadcast some cases; a residual add never wants that). */
function sameShapes(type: string, shapes: readonly Shape[], names: readonly string[]): string | undefined {
  const few = atLeastTwo(type, shapes);
  if (few) return few;
  const first = formatShape(shapes[0]!);
  if (shapes.every((s) => formatShape(s) === first)) return undefined;
  return `${type} needs inputs of the same shape, got ${named(shapes, names)}; for a residual connection, project the shortcut with a 1x1 conv2d (matching filters and strides)`;
}

function elementwise(type: string, keras: string, summary: string, build: 'add' | 'multiply' | 'average' | 'maximum' | 'minimum'): LayerDefinition {
  return defineLayer({
    type,
    keras,
    family: 'merge',
    summary,
    inputs: 'multiple',
    args: args({}, { title: `${type} arguments` }),
    checkInput: (shapes, _a, names) => sameShapes(type, shapes, names),
    build: (_a, c) => c.tf.layers[build]({ name: c.name }),
  });
}

export const concat = defineLayer({
  type: 'concat',
  keras: 'Concatenate',
  aliases: ['concatenate'],
  family: 'merge',
  summary: 'Joins tensors along an axis (channels by default).',
  inputs: 'multiple',
  args: args({ axis: Type.Integer({ default: -1, description: 'the axis to join along (-1: channels)' }) }, { title: 'concat arguments' }),
  checkInput: (shapes, a, names) => {
    const few = atLeastTwo('concat', shapes);
    if (few) return few;
    const rank = shapes[0]!.length;
    if (shapes.some((s) => s.length !== rank)) return `concat needs inputs of the same rank, got ${named(shapes, names)}`;
    const axis = a.axis < 0 ? rank + a.axis : a.axis;
    const others = (s: Shape) => s.filter((_, i) => i !== axis && i !== 0).join('x');
    if (shapes.some((s) => others(s) !== others(shapes[0]!))) {
      return `concat along axis ${a.axis} needs the other dimensions to match, got ${named(shapes, names)}`;
    }
    return undefined;
  },
  build: (a, c) => c.tf.layers.concatenate({ name: c.name, axis: a.axis }),
});

export const mergeLayers: LayerDefinition[] = [
  elementwise('add', 'Add', 'Element-wise sum (residual connections).', 'add'),
  concat,
  elementwise('multiply', 'Multiply', 'Element-wise product (gating, attention).', 'multiply'),
  elementwise('average', 'Average', 'Element-wise mean.', 'average'),
  elementwise('maximum', 'Maximum', 'Element-wise maximum.', 'maximum'),
  elementwise('minimum', 'Minimum', 'Element-wise minimum.', 'minimum'),
];
