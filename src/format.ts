// Money and time formatting for pages and messages, through Intl.

const fractionDigitsCache = new Map<string, number>();

/** How many minor units a currency has (USD 2, JPY 0, KWD 3). */
export function currencyExponent(currency: string): number {
  let digits = fractionDigitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    fractionDigitsCache.set(currency, digits);
  }
  return digits;
}

// Building an Intl formatter costs far more than using one (~0.2 ms each): a
// page with a hundred amounts and dates would spend most of its time here.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, build: () => T): T {
  let formatter = formatters.get(key) as T | undefined;
  if (!formatter) {
    formatter = build();
    formatters.set(key, formatter);
  }
  return formatter;
}

export function formatMoney(minorUnits: number, currency = 'USD', locale = 'en-US'): string {
  const value = minorUnits / 10 ** currencyExponent(currency);
  return cached(`money|${locale}|${currency}`, () => new Intl.NumberFormat(locale, { style: 'currency', currency })).format(value);
}

/** Parses "1,234.56" typed in a form into minor units, or null when it isn't an amount. */
export function parseMoneyInput(text: string, currency = 'USD'): number | null {
  const cleaned = text.replace(/[\s,$€£]/g, '');
  const exponent = currencyExponent(currency);
  const pattern = exponent === 0 ? /^\d{1,12}$/ : new RegExp(`^\\d{1,12}(\\.\\d{1,${exponent}})?$`);
  if (!pattern.test(cleaned)) return null;
  const [whole, fraction = ''] = cleaned.split('.');
  return Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || 0);
}

/** Minor units as a plain decimal for form inputs ("1234.50"). */
export function moneyInputValue(minorUnits: number, currency = 'USD'): string {
  const exponent = currencyExponent(currency);
  return (minorUnits / 10 ** exponent).toFixed(exponent);
}

type DateInput = Date | string | null | undefined;

function toDate(value: DateInput): Date | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return value;
  // Calendar days ('2026-11-25') are shown as that day, whatever the zone.
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T12:00:00Z`);
  return new Date(value);
}

export function formatDate(value: DateInput, timeZone = 'UTC', locale = 'en-US'): string {
  const date = toDate(value);
  if (!date) return '';
  const zone = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? 'UTC' : timeZone;
  return cached(`date|${locale}|${zone}`, () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: zone })).format(date);
}

export function formatDateTime(value: DateInput, timeZone = 'UTC', locale = 'en-US'): string {
  const date = toDate(value);
  if (!date) return '';
  return cached(`datetime|${locale}|${timeZone}`, () =>
    new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }),
  ).format(date);
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
