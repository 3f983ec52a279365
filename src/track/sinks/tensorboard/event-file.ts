import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads the scalars already in a folder's TensorBoard event files, so that a replay writes only
 * what is missing. Event files are TFRecord files (each record: length as uint64, its masked
 * CRC-32C, the bytes, their masked CRC-32C) of `Event` protocol buffers (tensorflow/core/util/
 * event.proto); a scalar is an Event with a `step` and a `summary` whose values carry a `tag`.
 * A record cut short or damaged (a writer killed mid-write) ends the file for us as it does for
 * TensorBoard's own reader: what it held is not there, and is written again.
 */
export interface ScalarPoint {
  tag: string;
  step: number;
  value: number;
}

export const EVENT_FILE = /^events\.out\.tfevents\./;

/** Every scalar point of the event files directly in `dir`, file by file in name order (TensorBoard's order). */
export function readScalars(dir: string): ScalarPoint[] {
  if (!existsSync(dir)) return [];
  const out: ScalarPoint[] = [];
  for (const name of readdirSync(dir).filter((f) => EVENT_FILE.test(f)).sort()) {
    for (const record of records(readFileSync(path.join(dir, name)))) out.push(...scalarsOfEvent(record));
  }
  return out;
}

function* records(bytes: Buffer): Generator<Buffer> {
  let at = 0;
  while (at + 12 <= bytes.length) {
    const length = Number(bytes.readBigUInt64LE(at));
    if (maskedCrc(bytes.subarray(at, at + 8)) !== bytes.readUInt32LE(at + 8)) return;
    const end = at + 12 + length;
    if (end + 4 > bytes.length) return;
    const data = bytes.subarray(at + 12, end);
    if (maskedCrc(data) !== bytes.readUInt32LE(end)) return;
    yield data;
    at = end + 4;
  }
}

/** Field numbers of event.proto and summary.proto. */
const EVENT_STEP = 2;
const EVENT_SUMMARY = 5;
const SUMMARY_VALUE = 1;
const VALUE_TAG = 1;
const VALUE_SIMPLE = 2;

function scalarsOfEvent(event: Buffer): ScalarPoint[] {
  let step = 0;
  const values: { tag: string; value: number }[] = [];
  for (const field of fields(event)) {
    if (field.number === EVENT_STEP && field.varint !== undefined) step = Number(field.varint);
    if (field.number === EVENT_SUMMARY && field.bytes) {
      for (const entry of fields(field.bytes)) {
        if (entry.number !== SUMMARY_VALUE || !entry.bytes) continue;
        let tag: string | undefined;
        let value = Number.NaN;
        for (const part of fields(entry.bytes)) {
          if (part.number === VALUE_TAG && part.bytes) tag = part.bytes.toString('utf8');
          if (part.number === VALUE_SIMPLE && part.fixed32 !== undefined) value = part.fixed32.readFloatLE(0);
        }
        if (tag !== undefined) values.push({ tag, value });
      }
    }
  }
  return values.map((v) => ({ ...v, step }));
}

interface Field {
  number: number;
  varint?: bigint;
  bytes?: Buffer;
  fixed32?: Buffer;
}

/** The fields of a protocol buffer message, as far as it can be parsed. */
function* fields(message: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): bigint | undefined => {
    let result = 0n;
    for (let shift = 0n; at < message.length && shift < 70n; shift += 7n) {
      const byte = message[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    return undefined;
  };
  while (at < message.length) {
    const key = varint();
    if (key === undefined) return;
    const number = Number(key >> 3n);
    switch (Number(key & 7n)) {
      case 0: {
        const value = varint();
        if (value === undefined) return;
        yield { number, varint: value };
        break;
      }
      case 1:
        if (at + 8 > message.length) return;
        at += 8;
        break;
      case 2: {
        const length = varint();
        if (length === undefined || at + Number(length) > message.length) return;
        yield { number, bytes: message.subarray(at, at + Number(length)) };
        at += Number(length);
        break;
      }
      case 5:
        if (at + 4 > message.length) return;
        yield { number, fixed32: message.subarray(at, at + 4) };
        at += 4;
        break;
      default:
        return;
    }
  }
}

/** CRC-32C (Castagnoli), masked as TFRecord stores it. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function maskedCrc(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  crc = (crc ^ 0xffffffff) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}
