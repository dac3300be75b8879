// Building an Intl formatter costs far more than using one (~0.2 ms each): a page
// with a hundred amounts and dates would spend most of its time building them.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

/** The formatter stored under `key`, built once. */
export function cachedFormatter<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, build: () => T): T {
  let formatter = formatters.get(key) as T | undefined;
  if (!formatter) {
    formatter = build();
    formatters.set(key, formatter);
  }
  return formatter;
}

/** A line's quantity as its reader writes numbers ("140", "1.5", or "1,5" in Spanish): no trailing zeros. */
export function formatQuantity(quantity: number | string, locale: string): string {
  return cachedFormatter(`quantity|${locale}`, () => new Intl.NumberFormat(locale)).format(Number(quantity));
}

/** A tax rate stored in basis points, as its reader writes numbers ("8.25", "8,25" in Spanish). */
export function formatTaxRate(bps: number, locale: string): string {
  return formatQuantity(bps / 100, locale);
}
