// One full stop where a value that ends in one ("Acme Co.", "Luis M.", "8:17 p. m.")
// is put before the wording's own ("…at {{businessName}}.") — not "Acme Co..".
//
// Each string value that ends in a single full stop is marked right after it; once
// the text is put together, a marked stop followed by a full stop is one stop, and
// the marks go. Only a value's last stop meeting the wording's next character
// counts: two stops typed inside a value, or an ellipsis, are left as written.
// NUL is the mark: Postgres text can't hold it and every form refuses it
// (src/http/validate.ts), so no value carries one of its own.
const MARK = '\u0000';
const ELLIPSIS = '...';

/** `values` with every string that ends in a single full stop marked; the same object when none does. */
export function markValueStops<T extends object>(values: T): T {
  let marked: Record<string, unknown> | null = null;
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string' || !value.endsWith('.') || value.endsWith(ELLIPSIS)) continue;
    marked ??= { ...(values as Record<string, unknown>) };
    marked[name] = value + MARK;
  }
  return (marked ?? values) as T;
}

/** Text put together from values marked by markValueStops: a marked stop and the next full stop as one, the marks gone. */
export function joinValueStops(text: string): string {
  return text.includes(MARK) ? text.replaceAll(`.${MARK}.`, '.').replaceAll(MARK, '') : text;
}
