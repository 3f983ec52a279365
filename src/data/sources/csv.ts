// The csv source (its arguments, its reader) is a registry entry now: src/registry/sources/csv.ts.
// Kept for `fer predict`, which reads a CSV of images directly.
export { readCsvSource, type CsvSourceOptions } from '../../registry/sources/csv.js';
