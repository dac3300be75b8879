// Parsed form inputs for service tests, built through the same zod schemas the routes use.
import { parseForm } from '../../src/lib/forms.js';
import { invoiceFormSchema } from '../../src/invoices/schema.js';

/** A two-line-item ($150 × 2) invoice form for a customer. */
export const invoiceForm = (leadId: string, extra: Record<string, unknown> = {}) =>
  parseForm(invoiceFormSchema('USD'), {
    lead_id: leadId,
    issue_date: '2026-11-01',
    due_date: '2026-11-15',
    tax_rate: '',
    items: [{ service: 'Repair', quantity: '2', unit_price: '150.00' }],
    ...extra,
  });
