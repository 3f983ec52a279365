import { createHash } from 'node:crypto';

/**
 * Every random source in fer gets its seed from the experiment seed through this one function:
 *   deriveSeed(base, ...parts) = first 4 bytes of SHA-256("fer-seed/v1/" + [base, ...parts].join("/")),
 *   read big-endian, with the top bit cleared (a non-negative int32).
 * A hash (not an RNG stream) keeps seeds independent of the order things are built or run in, and
 * identical on every machine. Examples: a layer's kernel `deriveSeed(modelSeed, 'conv2d_1', 'kernel')`.
 */
export function deriveSeed(base: number, ...parts: readonly (string | number)[]): number {
  const digest = createHash('sha256').update(`fer-seed/v1/${[base, ...parts].join('/')}`).digest();
  return digest.readUInt32BE(0) & 0x7fffffff;
}
