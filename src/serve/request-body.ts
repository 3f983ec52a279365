import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * The body of a request, refused with 413 as soon as it passes `limit` bytes (announced or
 * received): a client cannot make the server buffer more than that.
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `the request body is larger than ${limit} bytes, the most fer serve accepts (--max-body)`);
  const announced = Number(request.headers['content-length'] ?? NaN);
  if (announced > limit) {
    request.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      request.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
