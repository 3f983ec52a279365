import { FerError } from './errors.js';

/** A problem with the data itself (or finding it). It names the file, and the line or image, when there is one. */
export class DataError extends FerError {
  constructor(
    message: string,
    readonly where?: { file: string; line?: number },
    hint?: string,
  ) {
    super(where ? `${where.file}${where.line !== undefined ? `:${where.line}` : ''}: ${message}` : message, hint);
    this.name = 'DataError';
  }
}
