import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The FER2013 CSV a benchmark reads: `fer2013-train-public.csv.gz` in the folder FER_DATA names,
 * as for the tests and the shipped configs. Without it the benchmark says what it needs and exits 2
 * (no stack trace), wherever it is run from.
 */
export function fer2013Csv(bench: string): string {
  const name = 'fer2013-train-public.csv.gz';
  const dir = process.env.FER_DATA;
  const file = dir ? path.resolve(dir, name) : undefined;
  if (file && existsSync(file)) return file;
  console.error(
    `the ${bench} benchmark reads FER2013: ${dir ? `${file} does not exist` : 'FER_DATA is not set'}. ` +
      `Set FER_DATA to the folder holding ${name}, e.g. FER_DATA=../shared/data/fer2013 npm run bench -- ${bench}`,
  );
  process.exit(2);
}
