// Invoice forms.
import { z } from 'zod';
import { INVOICE_STATUSES } from '../lib/balance.js';
import { isoDate } from '../lib/dates.js';
import { optionalUuidField } from '../lib/ids.js';
import { customerMessageField, internalNotesField } from '../lib/forms.js';
import { lineItemsSchema, taxRateField } from '../lib/line-items.js';
import { documentPropertyField } from '../leads/schema.js';

export { INVOICE_STATUSES };

export function invoiceFormSchema(currency: string) {
  return z
    .object({
      lead_id: z.uuid('Choose a customer'),
      property_id: documentPropertyField,
      proposal_id: optionalUuidField,
      job_id: optionalUuidField,
      issue_date: isoDate,
      due_date: isoDate,
      tax_rate: taxRateField,
      customer_message: customerMessageField,
      internal_notes: internalNotesField,
      items: lineItemsSchema(currency),
    })
    .superRefine((v, ctx) => {
      if (v.due_date < v.issue_date) {
        ctx.addIssue({ code: 'custom', path: ['due_date'], message: 'dashboard:invoice.errors.dueBeforeIssue' });
      }
    });
}
export type InvoiceInput = z.infer<ReturnType<typeof invoiceFormSchema>>;

export const invoiceListQuerySchema = z.object({
  status: z.enum(INVOICE_STATUSES).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1000).catch(1).default(1),
});
