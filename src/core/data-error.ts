/** A problem with the data itself (or finding it). It names the file, and the line or image, when there is one. */
export class DataError extends Error {
  constructor(
    message: string,
    readonly where?: { file: string; line?: number },
    readonly hint?: string,
  ) {
    super(where ? `${where.file}${where.line !== undefined ? `:${where.line}` : ''}: ${message}` : message);
    this.name = 'DataError';
  }
}
