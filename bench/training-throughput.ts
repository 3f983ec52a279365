import { startEngine } from '../src/backend/backend.js';
import { handWrittenCnn } from './baselines/reference-models.js';

/**
 * Training throughput of the reference CNN (batch 32, Adam) on the fastest backend available, for
 * benchmarks that compare other work against training. Undefined when only the pure-JS backend is
 * available: it needs minutes per batch, too slow to measure usefully.
 */
export async function trainingThroughput(): Promise<{ backend: string; imagesPerSecond: number } | undefined> {
  const engine = await startEngine('auto');
  if (engine.backend === 'cpu') return undefined;
  const { tf } = engine;
  const model = handWrittenCnn(tf);
  model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([32, 48, 48, 1]);
  const y = tf.oneHot(tf.randomUniform([32], 0, 7, 'int32'), 7);
  await model.trainOnBatch(x, y);
  const steps = 10;
  const start = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  return { backend: engine.backend, imagesPerSecond: (steps * 32) / seconds };
}
