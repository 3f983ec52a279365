import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FerError } from '../core/errors.js';
import { imageBytesInput } from '../predict/inputs.js';
import { HttpError } from './http-error.js';
import { checkImageSize } from './image-limits.js';
import { pageHtml } from './page.js';
import { readBody } from './request-body.js';
import type { Predictor, ServedModel } from './served-model.js';

export interface ServeLimits {
  /** The largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** The largest image decoded, in pixels (width x height, as its header declares). */
  maxImagePixels: number;
  /** The most images one JSON request may hold. */
  maxImagesPerRequest: number;
}

export const DEFAULT_LIMITS: ServeLimits = { maxBodyBytes: 8 * 1024 * 1024, maxImagePixels: 4096 * 4096, maxImagesPerRequest: 256 };

/** tf.min.js of the @tensorflow/tfjs fer depends on: the page runs the model with it, offline. */
function tfjsBundle(): Buffer {
  const packageJson = createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json');
  return readFileSync(path.join(path.dirname(packageJson), 'dist', 'tf.min.js'));
}

/**
 * fer serve's HTTP server: POST /predict (PNG or JPEG bytes, or JSON pixels) answers the class
 * probabilities; GET /health; GET / is the page that runs the same model in the browser, with
 * the model (/model/...) and TensorFlow.js (/tfjs/tf.min.js) served from here. A bad request gets
 * a 4xx with a JSON {"error"} saying what was wrong; nothing a client sends ends the process.
 */
export function createFerServer(model: ServedModel, predictor: Predictor, limits: ServeLimits = DEFAULT_LIMITS): Server {
  const { metadata } = model;
  const { height, width, channels } = metadata.input;
  const imageShape = { height, width, channels };
  const size = height * width * channels;
  const page = Buffer.from(pageHtml(metadata, model.modelJson.format));
  const modelJson = Buffer.from(JSON.stringify(model.modelJson));
  let tfjs: Buffer | undefined;

  async function predict(request: IncomingMessage): Promise<unknown> {
    const body = await readBody(request, limits.maxBodyBytes);
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let pixels: Float32Array;
    if (type === 'application/json') {
      pixels = jsonPixels(body, size, `${height}x${width}x${channels}`, limits.maxImagesPerRequest);
    } else if (type === '' || type === 'application/octet-stream' || type.startsWith('image/')) {
      if (body.length === 0) throw new HttpError(400, 'the request has no body: send PNG or JPEG bytes, or JSON {"pixels": [...]}');
      checkImageSize(body, limits.maxImagePixels);
      pixels = imageBytesInput(body, 'the request body', imageShape);
    } else {
      throw new HttpError(415, `Content-Type ${type} is neither an image (image/png, image/jpeg) nor application/json`);
    }
    const count = pixels.length / size;
    const probabilities = await predictor.predict(pixels, count);
    const classes = metadata.classes;
    return {
      classes,
      predictions: Array.from({ length: count }, (_, i) => {
        const row = Array.from(probabilities.subarray(i * classes.length, (i + 1) * classes.length));
        const best = row.indexOf(Math.max(...row));
        return { emotion: classes[best], probabilities: Object.fromEntries(classes.map((c, k) => [c, row[k]])) };
      }),
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = `${request.method} ${url.pathname}`;
    if (route === 'POST /predict') return sendJson(response, 200, await predict(request));
    if (url.pathname === '/predict') throw new HttpError(405, `${request.method} /predict: use POST with an image or JSON pixels`);
    if (route === 'GET /health') return sendJson(response, 200, { status: 'ok', model: metadata.run.experiment, format: model.modelJson.format, classes: metadata.classes, input: metadata.input, members: metadata.members.map((m) => m.name) });
    if (route === 'GET /') return send(response, 200, 'text/html; charset=utf-8', page);
    if (route === 'GET /model/model.json') return send(response, 200, 'application/json', modelJson);
    if (request.method === 'GET' && url.pathname.startsWith('/model/')) {
      const file = model.files.get(decodeURIComponent(url.pathname.slice('/model/'.length)));
      if (file) return send(response, 200, 'application/octet-stream', file);
    }
    if (route === 'GET /tfjs/tf.min.js') return send(response, 200, 'text/javascript; charset=utf-8', (tfjs ??= tfjsBundle()));
    throw new HttpError(404, `nothing at ${request.method} ${url.pathname} (fer serve has GET /, GET /health and POST /predict)`);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof HttpError) return sendJson(response, error.status, { error: error.message });
      // A FerError here is a bad image (DataError from the decoder) or pixels the model refuses.
      if (error instanceof FerError) return sendJson(response, 400, { error: error.message });
      process.stderr.write(`fer serve: ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}\n`);
      sendJson(response, 500, { error: 'fer serve failed on this request (its log says why)' });
    });
  });
  // A malformed request never reaches the handler: answer 400 and drop the connection.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  return server;
}

/** Pixels from a JSON body: {"pixels": [...]} with one image or several back to back, or a list of images. */
function jsonPixels(body: Buffer, size: number, shape: string, maxImages: number): Float32Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`);
  }
  const pixels = (parsed as { pixels?: unknown } | null)?.pixels;
  if (!Array.isArray(pixels)) throw new HttpError(400, 'the JSON has no "pixels" array: send {"pixels": [...]} with the raw values (0-255) of one image or several, or a list of images');
  const flat = (pixels as unknown[]).flat() as unknown[];
  if (flat.length === 0 || flat.length % size !== 0) {
    throw new HttpError(400, `"pixels" has ${flat.length} values, not a whole number of ${shape} images (${size} values each, row-major, raw 0-255)`);
  }
  if (flat.length / size > maxImages) throw new HttpError(413, `"pixels" holds ${flat.length / size} images, more than the ${maxImages} one request may hold`);
  const out = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 255)) throw new HttpError(400, `"pixels"[${i}] is ${JSON.stringify(v)}: pixel values are numbers from 0 to 255`);
    out[i] = v;
  }
  return out;
}

function send(response: ServerResponse, status: number, type: string, body: Buffer): void {
  // A refused body may still be arriving: closing the connection stops it.
  const close = status === 413 ? { Connection: 'close' } : {};
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', ...close });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  send(response, status, 'application/json; charset=utf-8', Buffer.from(`${JSON.stringify(value)}\n`));
}
