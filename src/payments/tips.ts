// Tips on online payments (issue 15): the org suggests percentages (or has tips
// off); the customer picks one, types an amount, or gives none. A tip is its
// own Checkout line and is recorded on the payment (tip_cents), never applied
// to an invoice balance.
import { z } from 'zod';
import { fieldError } from '../lib/errors.js';
import { parseMoneyInput } from '../lib/money.js';

/** Settings → Payments: "10, 15, 20" (1 to 4 whole percentages from 1 to 100), or empty for tips off. */
export const tipSettingsForm = z.object({
  tip_percentages: z
    .string()
    .trim()
    .max(40, 'settings:pay.tipPercentages')
    .default('')
    .transform((text, ctx) => {
      if (!text) return null;
      const parts = text.split(/[\s,%]+/).filter(Boolean);
      const values = parts.map(Number);
      if (parts.length > 4 || values.some((v, i) => !/^\d{1,3}$/.test(parts[i]) || v < 1 || v > 100)) {
        ctx.addIssue({ code: 'custom', message: 'settings:pay.tipWholePercentages' });
        return z.NEVER;
      }
      return [...new Set(values)].sort((a, b) => a - b);
    }),
});

/** The tip fields of a Pay form: "none", "p<percent>" (a suggested one) or "custom" with an amount. */
export const tipFormFields = {
  tip_choice: z
    .string()
    .trim()
    .regex(/^(none|custom|p\d{1,3})$/, 'payments:tips.choose')
    .optional(),
  tip_amount: z.string().trim().max(32, 'payments:tips.like').optional(),
};

export interface TipOption {
  value: string;
  percent: number;
  cents: number;
}

/** The suggested tips on an amount (rounded to the minor unit). */
export function tipOptions(percentages: number[] | null, baseCents: number): TipOption[] {
  return (percentages ?? []).map((percent) => ({ value: `p${percent}`, percent, cents: Math.round((baseCents * percent) / 100) }));
}

/**
 * The tip the customer chose on `baseCents`: 0 for none; a suggested
 * percentage only if the org suggests it; a typed amount of zero or more.
 * Anything else is a field error (422, nothing created).
 */
export function chosenTipCents(
  input: { tip_choice?: string; tip_amount?: string },
  percentages: number[] | null,
  baseCents: number,
  currency: string,
): number {
  const choice = input.tip_choice ?? 'none';
  if (choice === 'none') return 0;
  if (!percentages) throw fieldError('tip_choice', 'payments:tips.notTaken');
  if (choice === 'custom') {
    const text = input.tip_amount ?? '';
    if (text === '') return 0;
    const cents = /^-/.test(text) ? null : parseMoneyInput(text, currency);
    if (cents === null) throw fieldError('tip_amount', 'payments:tips.zeroOrMore');
    return cents;
  }
  const option = tipOptions(percentages, baseCents).find((o) => o.value === choice);
  if (!option) throw fieldError('tip_choice', 'payments:tips.suggested');
  return option.cents;
}
