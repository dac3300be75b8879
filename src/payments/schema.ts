// Payment and refund forms.
import { z } from 'zod';
import { MANUAL_METHODS, NOT_RECEIVED_REASONS, type ManualMethod } from '../db/rows.js';
import { isoDate } from '../lib/dates.js';
import { amountField } from '../lib/money.js';

export type { ManualMethod };

const reference = z
  .string()
  .trim()
  .max(200, 'settings:pay.atMost200')
  .optional()
  .transform((v) => (v ? v : null));

export function paymentFormSchema(currency: string) {
  return z.object({
    amount: amountField(currency),
    method: z.enum(MANUAL_METHODS, 'settings:pay.chooseMethod'),
    reference,
    paid_on: z.preprocess((v) => (v === '' ? undefined : v), isoDate.optional()),
    // A tick box: sent only when ticked.
    no_receipt: z.literal('on').optional(),
  });
}

export function refundFormSchema(currency: string) {
  return z.object({ amount: amountField(currency), reference });
}

/** "Not received after all": why, and a note (the bank's letter, the check's number). */
export const notReceivedFormSchema = z.object({
  reason: z.enum(NOT_RECEIVED_REASONS, 'settings:pay.chooseNotReceivedReason'),
  note: reference,
});

export const paymentListQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
