// Payment and refund forms.
import { z } from 'zod';
import { parseMoneyInput } from '../format.js';
import { isoDate } from '../proposals/schema.js';

export const MANUAL_METHODS = ['cash', 'check', 'card_in_person', 'bank_transfer', 'other'] as const;
export type ManualMethod = (typeof MANUAL_METHODS)[number];

export function amountField(currency: string) {
  return z
    .string({ error: 'Enter an amount' })
    .trim()
    .min(1, 'Enter an amount')
    .transform((text, ctx) => {
      if (/^-/.test(text)) {
        ctx.addIssue({ code: 'custom', message: 'The amount cannot be negative' });
        return z.NEVER;
      }
      const cents = parseMoneyInput(text, currency);
      if (cents === null) {
        ctx.addIssue({ code: 'custom', message: 'Enter an amount like 250 or 250.75' });
        return z.NEVER;
      }
      if (cents <= 0) {
        ctx.addIssue({ code: 'custom', message: 'The amount must be more than zero' });
        return z.NEVER;
      }
      return cents;
    });
}

export function paymentFormSchema(currency: string) {
  return z.object({
    amount: amountField(currency),
    method: z.enum(MANUAL_METHODS, 'Choose how the customer paid'),
    reference: z
      .string()
      .trim()
      .max(200, 'At most 200 characters')
      .optional()
      .transform((v) => (v ? v : null)),
    paid_on: z.preprocess((v) => (v === '' ? undefined : v), isoDate.optional()),
  });
}

export function refundFormSchema(currency: string) {
  return z.object({
    amount: amountField(currency),
    reference: z
      .string()
      .trim()
      .max(200, 'At most 200 characters')
      .optional()
      .transform((v) => (v ? v : null)),
  });
}

export const paymentListQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
