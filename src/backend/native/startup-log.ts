/**
 * Which lines of what TensorFlow writes to stderr while it loads are its start-up notices: absl's
 * "All log messages before absl::InitializeLog() ..." and info-level records (oneDNN's notice from
 * port.cc, cpu_feature_guard's), each with its continuation lines. Warnings, errors and anything
 * else are not notices: fer passes those on.
 */
const ABSL_PREAMBLE = /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/;
/** absl's record prefix: severity letter, MMDD, time (seconds since the epoch before absl::InitializeLog), thread, file:line]. */
const RECORD = /^([IWEF])\d{4} \d{2}:\d{2}:\d+\.\d+\s+\d+ [^\s\]]+:\d+\] /;

export interface StartupLog {
  /** TensorFlow's start-up notices, one record per entry (shown with --verbose). */
  notices: string[];
  /** Everything else, as written (a real problem: always shown). */
  rest: string;
}

export function splitStartupLog(text: string): StartupLog {
  const notices: string[] = [];
  const rest: string[] = [];
  // Where a line without a record prefix goes: with the record it continues.
  let current: 'notice' | 'rest' = 'rest';
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    const record = RECORD.exec(line);
    if (ABSL_PREAMBLE.test(line)) {
      notices.push(line);
      current = 'rest';
    } else if (record) {
      current = record[1] === 'I' ? 'notice' : 'rest';
      (current === 'notice' ? notices : rest).push(line);
    } else if (current === 'notice' && line !== '') {
      notices[notices.length - 1] += `\n${line}`;
    } else {
      rest.push(line);
    }
  }
  return { notices, rest: rest.length > 0 ? `${rest.join('\n')}\n` : '' };
}
