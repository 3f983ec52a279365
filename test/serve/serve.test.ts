import { writeFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageInput } from '../../src/predict/inputs.js';
import { SavedEnsemble } from '../../src/predict/saved-ensemble.js';
import { runFer } from '../helpers/cli.js';
import { tempDir } from '../helpers/data.js';
import { startServe, syntheticFacePng, tinyDemoRun } from './served.js';

interface Answer {
  classes: string[];
  predictions: { emotion: string; probabilities: Record<string, number> }[];
}

describe('fer serve', () => {
  const dir = tempDir('fer-serve-');
  let runDir: string;
  let server: Awaited<ReturnType<typeof startServe>>;
  let ensemble: SavedEnsemble;
  const png = syntheticFacePng(3, 2);
  const pngFile = path.join(dir, 'face.png');

  beforeAll(async () => {
    runDir = await tinyDemoRun(path.join(dir, 'runs'));
    writeFileSync(pngFile, png);
    server = await startServe(runDir, ['--max-body', String(200_000)]);
    ensemble = await SavedEnsemble.open(runDir);
  }, 180_000);
  afterAll(() => server?.stop());

  const post = (body: string | Uint8Array, type: string) => fetch(new URL('predict', server.url), { method: 'POST', body, headers: { 'Content-Type': type } });

  it('GET /health names the model, its classes and input', async () => {
    const response = await fetch(new URL('health', server.url));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', classes: ensemble.classes, input: { height: 48, width: 48, channels: 1 }, members: ['tiny-1', 'tiny-2'] });
  });

  it('POST /predict with PNG bytes, JPEG bytes or JSON pixels answers what fer predict gives (max abs diff < 1e-5)', async () => {
    const pixels = readImageInput(pngFile, ensemble.imageShape);
    const expected = (await ensemble.predict(pixels)).probabilities;
    const check = async (response: Response) => {
      expect(response.status).toBe(200);
      const answer = (await response.json()) as Answer;
      expect(answer.classes).toEqual(ensemble.classes);
      const got = ensemble.classes.map((c) => answer.predictions[0]!.probabilities[c]!);
      expect(Math.max(...got.map((p, k) => Math.abs(p - expected[k]!)))).toBeLessThan(1e-5);
      expect(answer.predictions[0]!.emotion).toBe(ensemble.classes[got.indexOf(Math.max(...got))]);
    };
    await check(await post(png, 'image/png'));
    await check(await post(JSON.stringify({ pixels: Array.from(pixels) }), 'application/json'));
    // JPEG: the server decodes it as fer predict decodes the same file.
    const jpegBytes = jpeg.encode({ data: Buffer.from(Array.from(pixels).flatMap((v) => [v, v, v, 255])), width: 48, height: 48 }, 90).data;
    const jpegFile = path.join(dir, 'face.jpg');
    writeFileSync(jpegFile, jpegBytes);
    const fromJpeg = (await ensemble.predict(readImageInput(jpegFile, ensemble.imageShape))).probabilities;
    const answer = (await (await post(jpegBytes, 'image/jpeg')).json()) as Answer;
    expect(Math.max(...ensemble.classes.map((c, k) => Math.abs(answer.predictions[0]!.probabilities[c]! - fromJpeg[k]!)))).toBeLessThan(1e-5);
  });

  it('bad requests get a 4xx with a clear message, and the server keeps answering', async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [post('not an image', 'image/png'), 400, /not a PNG or JPEG image/],
      [post(JSON.stringify({ pixels: [1, 2, 3] }), 'application/json'), 400, /"pixels" has 3 values, not a whole number of 48x48x1 images \(2304 values each/],
      [post(JSON.stringify({ pixels: new Array(2304).fill(300) }), 'application/json'), 400, /"pixels"\[0\] is 300: pixel values are numbers from 0 to 255/],
      [post('{"pixels": [1, 2', 'application/json'), 400, /the body is not JSON/],
      [post('hello', 'text/plain'), 415, /Content-Type text\/plain is neither an image/],
      [post(Buffer.alloc(300_000), 'image/png'), 413, /larger than 200000 bytes/],
      [post(hugePngHeader(), 'image/png'), 413, /the image is 100000x100000 \(10000\.0 megapixels\), larger than the 16\.8 megapixels/],
      [fetch(new URL('predict', server.url)), 405, /use POST/],
      [fetch(new URL('nothing', server.url)), 404, /nothing at GET \/nothing/],
    ];
    for (const [request, status, message] of cases) {
      const response = await request;
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
    expect((await fetch(new URL('health', server.url))).status).toBe(200);
  });

  it('answers 32 concurrent requests, each as it would alone', async () => {
    const alone = (await (await post(png, 'image/png')).json()) as Answer;
    const answers = await Promise.all(Array.from({ length: 32 }, () => post(png, 'image/png').then((r) => r.json() as Promise<Answer>)));
    // Concurrent requests share forward passes (batched): the same answers, up to float rounding.
    for (const answer of answers) {
      expect(answer.predictions[0]!.emotion).toBe(alone.predictions[0]!.emotion);
      for (const c of alone.classes) expect(Math.abs(answer.predictions[0]!.probabilities[c]! - alone.predictions[0]!.probabilities[c]!)).toBeLessThan(1e-6);
    }
  });

  it.each(['tfjs-layers', 'tfjs-graph'])('serves a %s export folder as it serves the run', async (format) => {
    const out = path.join(dir, `export-${format}`);
    expect((await runFer(['export', runDir, '--format', format, '--out', out])).code).toBe(0);
    const fromExport = await startServe(out);
    try {
      const a = (await (await fetch(new URL('predict', fromExport.url), { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } })).json()) as Answer;
      const b = (await (await post(png, 'image/png')).json()) as Answer;
      expect(a.predictions[0]!.emotion).toBe(b.predictions[0]!.emotion);
      for (const c of b.classes) expect(Math.abs(a.predictions[0]!.probabilities[c]! - b.predictions[0]!.probabilities[c]!)).toBeLessThan(1e-6);
    } finally {
      fromExport.stop();
    }
  }, 60_000);

  it('a folder that is neither a run nor an export: a clear error', async () => {
    const result = await runFer(['serve', dir, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${dir} is neither a run folder (no run.json) nor an export folder (no model.json)`);
  });
});

/** A PNG that declares 100000x100000 pixels in a few bytes: it must be refused before decoding. */
function hugePngHeader(): Buffer {
  const header = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header, 0);
  header.writeUInt32BE(13, 8);
  header.write('IHDR', 12, 'latin1');
  header.writeUInt32BE(100_000, 16);
  header.writeUInt32BE(100_000, 20);
  header[24] = 8;
  header[25] = 6;
  return header;
}
