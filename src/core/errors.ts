/**
 * The base of every error fer raises on purpose: a message that says what went wrong and, when
 * there is one, a hint that says what to do about it. Every error class of fer extends it, so the
 * CLI prints all of them one way (`error: <message>`, then `  help: <hint>`) and never with a
 * stack trace; an error of another class is a bug (fer's or the platform's), and FER_DEBUG=1 shows
 * its stack. Subclasses add what their callers need (a config error's diagnostics, a data error's
 * file and row, an HTTP status).
 */
export class FerError extends Error {
  /** What the user can do about it: a did-you-mean, a command to run, a setting to change. */
  readonly hint: string | undefined;

  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.hint = hint;
  }
}
