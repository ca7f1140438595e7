/**
 * Finds a few fields by name in `rawHeaders` without lower-casing every name there: a name as long as none of
 * them is passed over with one lookup. Answers the lower-cased name when it is one of `names`.
 */
export function headerMatcher(names: Iterable<string>): (name: string) => string | undefined {
  const wanted = new Set([...names].map((name) => name.toLowerCase()));
  const lengths = new Set([...wanted].map((name) => name.length));
  return (name) => {
    if (!lengths.has(name.length)) return undefined;
    const lower = name.toLowerCase();
    return wanted.has(lower) ? lower : undefined;
  };
}
