// Invoice forms.
import { z } from 'zod';
import { lineItemsSchema } from '../proposals/line-items.js';
import { isoDate, taxRateField } from '../proposals/schema.js';

export const INVOICE_STATUSES = ['draft', 'open', 'partially_paid', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export function invoiceFormSchema(currency: string) {
  return z
    .object({
      lead_id: z.uuid('Choose a customer'),
      proposal_id: z.preprocess((v) => (v === '' ? undefined : v), z.uuid().optional()),
      job_id: z.preprocess((v) => (v === '' ? undefined : v), z.uuid().optional()),
      issue_date: isoDate,
      due_date: isoDate,
      tax_rate: taxRateField,
      customer_message: z.string().trim().max(5000, 'At most 5,000 characters').default(''),
      internal_notes: z.string().trim().max(10_000, 'At most 10,000 characters').default(''),
      items: lineItemsSchema(currency),
    })
    .superRefine((v, ctx) => {
      if (v.due_date < v.issue_date) {
        ctx.addIssue({ code: 'custom', path: ['due_date'], message: 'The due date cannot be before the issue date' });
      }
    });
}
export type InvoiceInput = z.infer<ReturnType<typeof invoiceFormSchema>>;

export const invoiceListQuerySchema = z.object({
  status: z.enum(INVOICE_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
