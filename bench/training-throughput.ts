/**
 * Training throughput of the reference CNN (batch 32, Adam) on the fastest backend available, for
 * benchmarks that compare other work against training. Undefined when only the pure-JS backend is
 * available (it is too slow to measure usefully).
 */
export async function trainingThroughput(): Promise<{ backend: string; imagesPerSecond: number } | undefined> {
  let tf: typeof import('@tensorflow/tfjs');
  try {
    // tfjs-node arrives with the training engine; until it is installed there is nothing fast to measure.
    const name = '@tensorflow/tfjs-node';
    tf = (await import(name)) as typeof import('@tensorflow/tfjs');
  } catch {
    return undefined;
  }
  const { handWrittenCnn } = await import('./baselines/reference-models.js');
  const model = handWrittenCnn(tf as never);
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
  return { backend: tf.getBackend(), imagesPerSecond: (steps * 32) / seconds };
}
