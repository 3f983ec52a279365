import { FerError } from '../core/errors.js';

/** A request fer serve refuses: the status to answer with and a message saying what was wrong. */
export class HttpError extends FerError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
