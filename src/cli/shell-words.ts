/**
 * A command line a user can paste into a POSIX shell: each word as it is when it holds only
 * characters no shell treats specially, else in single quotes (a quote inside written '\'').
 */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellWord).join(' ');
}

function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
