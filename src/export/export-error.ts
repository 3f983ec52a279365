import { FerError } from '../core/errors.js';

/** A run that cannot be written as a standard TensorFlow.js model: the message names what has no portable form. */
export class ExportError extends FerError {}
