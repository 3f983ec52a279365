import type { ExportMetadata } from '../export/export-run.js';

/**
 * The page of fer serve: drop an image (or choose one, or use the webcam with a square guide to
 * centre the face) and see the model's probability for each class as bars. It runs the exported
 * model in the browser with the TensorFlow.js fer serve hands it (no internet needed), and turns an
 * image into model input as fer predict does: BT.601 luma rounded to whole levels, then a bilinear
 * resize with half-pixel centres to the model's size (a webcam frame first cropped to the guide's
 * square). Each bar carries its exact probability in data-probability (the browser test reads it).
 */
export function pageHtml(metadata: ExportMetadata, format: string): string {
  const title = `fer: ${metadata.run.experiment}`;
  const config = JSON.stringify({ classes: metadata.classes, input: metadata.input, format });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  main { max-width: 760px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .sub { color: #5b6475; margin: 0 0 18px; }
  .grid { display: grid; grid-template-columns: 280px 1fr; gap: 24px; align-items: start; }
  #drop { position: relative; width: 280px; height: 280px; border: 2px dashed #9aa3b5; border-radius: 10px; background: #fff; display: flex; align-items: center; justify-content: center; text-align: center; color: #5b6475; overflow: hidden; cursor: pointer; }
  #drop.over { border-color: #3465d9; background: #eef3ff; }
  #drop canvas, #drop video { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; }
  #preview { image-rendering: pixelated; }
  #guide { position: absolute; inset: 12%; border: 3px solid rgba(255, 255, 255, 0.9); box-shadow: 0 0 0 999px rgba(0, 0, 0, 0.35); border-radius: 6px; display: none; pointer-events: none; }
  .buttons { margin-top: 10px; display: flex; gap: 8px; }
  button, label.button { font: inherit; padding: 6px 12px; border: 1px solid #9aa3b5; border-radius: 6px; background: #fff; cursor: pointer; }
  #label { font-size: 28px; font-weight: 600; margin: 0 0 10px; min-height: 40px; text-transform: capitalize; }
  .row { display: grid; grid-template-columns: 80px 1fr 56px; gap: 8px; align-items: center; margin: 6px 0; }
  .row .name { text-transform: capitalize; }
  .bar { height: 18px; background: #e3e7ee; border-radius: 4px; overflow: hidden; }
  .fill { height: 100%; width: 0; background: #3465d9; transition: width 0.15s; }
  .row.top .fill { background: #1f9d55; }
  .pct { text-align: right; font-variant-numeric: tabular-nums; }
  #status { color: #5b6475; margin-top: 14px; font-size: 13px; }
</style>
</head>
<body>
<main>
  <h1>${escapeHtml(title)}</h1>
  <p class="sub">Drop a face image, choose a file, or use the webcam. The model runs in this browser.</p>
  <div class="grid">
    <div>
      <div id="drop"><span id="hint">Drop an image here<br>(centred face, any size)</span><canvas id="preview" width="${metadata.input.width}" height="${metadata.input.height}" hidden></canvas><video id="video" playsinline muted hidden></video><div id="guide"></div></div>
      <div class="buttons">
        <label class="button">Choose image<input id="file" type="file" accept="image/png,image/jpeg" hidden></label>
        <button id="webcam" type="button">Use webcam</button>
      </div>
    </div>
    <div>
      <p id="label"></p>
      <div id="bars"></div>
      <p id="status">Loading the model…</p>
    </div>
  </div>
</main>
<script src="/tfjs/tf.min.js"></script>
<script>
const CONFIG = ${config};
const { height: H, width: W, channels: C } = CONFIG.input;
const $ = (id) => document.getElementById(id);
let model;

const bars = CONFIG.classes.map((name) => {
  const row = document.createElement('div');
  row.className = 'row';
  row.dataset.class = name;
  row.innerHTML = '<span class="name"></span><div class="bar"><div class="fill"></div></div><span class="pct"></span>';
  row.querySelector('.name').textContent = name;
  $('bars').appendChild(row);
  return row;
});

function show(probabilities) {
  const best = probabilities.indexOf(Math.max(...probabilities));
  $('label').textContent = CONFIG.classes[best];
  bars.forEach((row, k) => {
    const p = probabilities[k];
    row.dataset.probability = String(p);
    row.classList.toggle('top', k === best);
    row.querySelector('.fill').style.width = (p * 100).toFixed(1) + '%';
    row.querySelector('.pct').textContent = (p * 100).toFixed(1) + '%';
  });
}

/** Model input from RGBA pixels: as fer predict converts an image (luma rounded, then bilinear with half-pixel centres). */
function toInput(rgba, width, height) {
  const values = new Float32Array(width * height * C);
  for (let i = 0; i < width * height; i++) {
    const r = rgba[i * 4], g = rgba[i * 4 + 1], b = rgba[i * 4 + 2];
    if (C === 1) values[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    else { values[i * 3] = r; values[i * 3 + 1] = g; values[i * 3 + 2] = b; }
  }
  return tf.tidy(() => {
    const image = tf.tensor3d(values, [height, width, C]);
    const sized = width === W && height === H ? image : tf.image.resizeBilinear(image, [H, W], false, true);
    return sized.expandDims(0);
  });
}

async function predict(rgba, width, height) {
  const input = toInput(rgba, width, height);
  const preview = $('preview').getContext('2d');
  const scaled = tf.tidy(() => input.squeeze([0]).div(255));
  const shown = await scaled.data();
  scaled.dispose();
  const data = preview.createImageData(W, H);
  for (let i = 0; i < W * H; i++) {
    const v = C === 1 ? shown[i] * 255 : 0;
    data.data.set(C === 1 ? [v, v, v, 255] : [shown[i * 3] * 255, shown[i * 3 + 1] * 255, shown[i * 3 + 2] * 255, 255], i * 4);
  }
  preview.putImageData(data, 0, 0);
  const output = model.predict(input);
  const probabilities = Array.from(await output.data());
  tf.dispose([input, output]);
  show(probabilities);
  return probabilities;
}

async function predictFile(file) {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  stopWebcam();
  $('hint').hidden = true;
  $('preview').hidden = false;
  await predict(pixels, bitmap.width, bitmap.height);
  $('status').textContent = file.name + ' (' + bitmap.width + 'x' + bitmap.height + ')';
}

let stream, timer;
function stopWebcam() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  clearInterval(timer);
  stream = undefined;
  $('video').hidden = true;
  $('guide').style.display = 'none';
}

/** The webcam: the square guide is the middle 76% of the frame's shorter side; that square is what the model sees. */
async function startWebcam() {
  stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user' } });
  const video = $('video');
  video.srcObject = stream;
  await video.play();
  video.hidden = false;
  $('preview').hidden = true;
  $('hint').hidden = true;
  $('guide').style.display = 'block';
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  timer = setInterval(async () => {
    const side = Math.round(Math.min(video.videoWidth, video.videoHeight) * 0.76);
    if (!side) return;
    canvas.width = canvas.height = side;
    context.drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2, side, side, 0, 0, side, side);
    await predict(context.getImageData(0, 0, side, side).data, side, side);
    $('status').textContent = 'webcam';
  }, 250);
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer.files[0];
  if (file) predictFile(file).catch(fail);
});
drop.addEventListener('click', () => $('file').click());
$('file').addEventListener('change', () => { const file = $('file').files[0]; if (file) predictFile(file).catch(fail); });
$('webcam').addEventListener('click', () => startWebcam().catch(fail));

function fail(error) {
  $('status').textContent = 'Could not use that: ' + (error && error.message ? error.message : error);
}

(async () => {
  const backend = new URLSearchParams(location.search).get('backend');
  if (backend) await tf.setBackend(backend);
  await tf.ready();
  model = CONFIG.format === 'graph-model' ? await tf.loadGraphModel('/model/model.json') : await tf.loadLayersModel('/model/model.json');
  $('status').textContent = 'Model ready (' + CONFIG.classes.length + ' classes, TensorFlow.js ' + tf.version.tfjs + ', ' + tf.getBackend() + ').';
  document.body.dataset.ready = 'true';
})().catch(fail);
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
