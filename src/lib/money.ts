// Money in minor units (cents): display through Intl, parsing what people type in forms.
import { z } from 'zod';
import { cachedFormatter } from './intl.js';
import { memoize } from './memo.js';

const fractionDigitsCache = new Map<string, number>();

/** How many minor units a currency has (USD 2, JPY 0, KWD 3). */
function currencyExponent(currency: string): number {
  let digits = fractionDigitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    fractionDigitsCache.set(currency, digits);
  }
  return digits;
}

// i18n-exempt: a locale code
export function formatMoney(minorUnits: number, currency = 'USD', locale = 'en-US'): string {
  return shownMoney(`${locale}|${currency}|${minorUnits}`);
}

// Remembered (src/lib/memo.ts): a page repeats the same amounts, and so do its reloads.
const shownMoney = memoize((key: string) => {
  const [locale, currency, minorUnits] = key.split('|');
  const value = Number(minorUnits) / 10 ** currencyExponent(currency);
  return cachedFormatter(`money|${locale}|${currency}`, () => new Intl.NumberFormat(locale, { style: 'currency', currency })).format(value);
}, 10_000);

/**
 * Parses "1,234.56" typed in a form into minor units, or null when it isn't an
 * amount. A comma may only group thousands: "1,50" (a decimal comma, as much of
 * the Spanish-speaking world writes it) is refused rather than read as 150.
 */
export function parseMoneyInput(text: string, currency = 'USD'): number | null {
  const compact = text.replace(/[\s$€£]/g, '');
  if (compact.includes(',') && !/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(compact)) return null;
  const cleaned = compact.replace(/,/g, '');
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

/** The smallest step of a money input in this currency ("0.01", "1"). */
export function moneyInputStep(currency: string): string {
  const exponent = currencyExponent(currency);
  return exponent === 0 ? '1' : (1 / 10 ** exponent).toFixed(exponent);
}

/** A money field in a form: a positive amount in the currency's minor units. */
export function amountField(currency: string) {
  return z
    .string({ error: 'errors:amount.required' })
    .trim()
    .min(1, 'errors:amount.required')
    .transform((text, ctx) => {
      if (/^-/.test(text)) {
        ctx.addIssue({ code: 'custom', message: 'errors:amount.negative' });
        return z.NEVER;
      }
      const cents = parseMoneyInput(text, currency);
      if (cents === null) {
        ctx.addIssue({ code: 'custom', message: 'errors:amount.format' });
        return z.NEVER;
      }
      if (cents <= 0) {
        ctx.addIssue({ code: 'custom', message: 'errors:amount.positive' });
        return z.NEVER;
      }
      return cents;
    });
}
