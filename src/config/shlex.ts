/**
 * Splits a command line as a POSIX shell would (quotes, backslash escapes; no expansion), as Gunicorn
 * splits GUNICORN_CMD_ARGS with shlex.
 */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= '';
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\' && i + 1 < text.length) word += text[++i];
      else word += ch;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}
