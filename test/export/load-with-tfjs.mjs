// Loads a fer export with stock TensorFlow.js only (no fer, no tfjs-node) as any program would: over
// HTTP with tf.loadLayersModel, from a static file server started here. Prints the class names from
// the model's metadata and the probabilities for the images given as JSON (raw pixels 0-255).
// Usage: node load-with-tfjs.mjs <export dir> <images.json: {"shape": [n, h, w, c], "pixels": [...]}>
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const [dir, imagesFile] = process.argv.slice(2);
const server = createServer(async (request, response) => {
  try {
    const body = await readFile(path.join(dir, path.basename(new URL(request.url, 'http://x').pathname)));
    response.writeHead(200).end(body);
  } catch {
    response.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
try {
  await tf.setBackend('cpu');
  const url = `http://127.0.0.1:${server.address().port}/model.json`;
  // A graph model (a GraphDef) loads with loadGraphModel, a layers model with loadLayersModel.
  const graph = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')).format === 'graph-model';
  const model = graph ? await tf.loadGraphModel(url) : await tf.loadLayersModel(url);
  const { shape, pixels } = JSON.parse(await readFile(imagesFile, 'utf8'));
  const output = model.predict(tf.tensor4d(pixels, shape));
  const classes = (graph ? model.metadata : model.getUserDefinedMetadata()).fer.classes;
  const layers = graph ? [] : [...new Set(model.layers.map((l) => l.getClassName()))].sort();
  process.stdout.write(JSON.stringify({ classes, shape: output.shape, probabilities: Array.from(await output.data()), layers }));
} finally {
  server.close();
}
