// Admin pages for invoices.
import { Router, type Request } from 'express';
import { pageOf, pageWindow, statusFilterOptions } from '../http/listing.js';
import { formFailure, orgPage } from '../http/page.js';
import { parseForm } from '../http/validate.js';
import { idOrNotFound, routeId } from '../leads/common.js';
import { getLead, leadChoices, leadName } from '../leads/service.js';
import { moneyInputValue } from '../format.js';
import { lineItemFormRows, taxRateText } from '../proposals/line-items.js';
import { listPayments } from '../payments/service.js';
import { MANUAL_METHODS } from '../payments/schema.js';
import { todayIn } from '../jobs/time.js';
import type { Db } from '../db/tenancy.js';
import { INVOICE_STATUSES, invoiceFormSchema, invoiceListQuerySchema } from './schema.js';
import {
  balanceOf,
  createInvoice,
  DEFAULT_PAYMENT_TERMS_DAYS,
  getInvoice,
  getInvoiceItems,
  issueInvoice,
  listInvoices,
  updateInvoice,
  voidInvoice,
  type InvoiceRow,
} from './service.js';

export const adminRouter = Router();

export const methodOptions = MANUAL_METHODS.map((m) => ({ value: m, label: m.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) }));

function bodyValues(req: Request): Record<string, unknown> {
  const { _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
  return values;
}

async function formLocals(db: Db, title: string, action: string, values: Record<string, unknown>, errors?: Record<string, string>) {
  const leadId = typeof values.lead_id === 'string' && /^[0-9a-f-]{36}$/.test(values.lead_id) ? values.lead_id : null;
  const leads = await leadChoices(db, leadId);
  return {
    title,
    action,
    values,
    leadOptions: [{ value: '', label: 'Choose a customer…' }, ...leads.map((l) => ({ value: l.id, label: leadName(l) }))],
    rows: lineItemFormRows(values.items, errors),
  };
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function valuesFrom(invoice: InvoiceRow, items: { service: string; description: string; quantity: string; unit_price_cents: number }[]) {
  return {
    lead_id: invoice.lead_id,
    issue_date: invoice.issue_date,
    due_date: invoice.due_date,
    tax_rate: taxRateText(invoice.tax_rate_bps),
    customer_message: invoice.customer_message,
    internal_notes: invoice.internal_notes,
    items: items.map((i) => ({ service: i.service, description: i.description, quantity: i.quantity, unit_price: moneyInputValue(Number(i.unit_price_cents), invoice.currency) })),
  };
}

adminRouter.get(
  '/invoices',
  orgPage(async ({ req, db }) => {
    const query = invoiceListQuerySchema.parse(req.query);
    const rows = await listInvoices(db, { status: query.status, ...pageWindow(query.page) });
    const keep: Record<string, string> = query.status ? { status: query.status } : {};
    const page = pageOf(rows, query.page, '/invoices', keep);
    return {
      render: 'admin/invoices/index',
      locals: {
        title: 'Invoices',
        invoices: page.rows,
        query,
        statusOptions: statusFilterOptions(INVOICE_STATUSES),
        prevUrl: page.prevUrl,
        nextUrl: page.nextUrl,
      },
    };
  }),
);

adminRouter.get(
  '/invoices/new',
  orgPage(async ({ req, db, org }) => {
    const lead = req.query.leadId ? await getLead(db, idOrNotFound(req.query.leadId)) : null;
    const today = todayIn(org.time_zone);
    return {
      render: 'admin/invoices/form',
      locals: await formLocals(db, 'New invoice', '/invoices', {
        lead_id: lead?.id ?? '',
        issue_date: today,
        due_date: addDays(today, DEFAULT_PAYMENT_TERMS_DAYS),
        tax_rate: '0',
      }),
    };
  }),
);

adminRouter.post(
  '/invoices',
  orgPage(async ({ req, db, org, actor }) => {
    try {
      const input = parseForm(invoiceFormSchema(org.currency), req.body);
      const invoice = await createInvoice(db, input, org.currency, actor);
      return { redirect: `/invoices/${invoice.id}`, flash: `Draft invoice #${invoice.number} saved.` };
    } catch (err) {
      const errors = (err as { fields?: Record<string, string> }).fields;
      return formFailure('admin/invoices/form', err, await formLocals(db, 'New invoice', '/invoices', bodyValues(req), errors));
    }
  }),
);

/** Everything the invoice page shows; the payment form re-renders it with errors. */
export async function invoicePageLocals(db: Db, org: { time_zone: string }, invoiceId: string) {
  const invoice = await getInvoice(db, invoiceId);
  const items = await getInvoiceItems(db, invoice.id);
  const lead = await getLead(db, invoice.lead_id);
  const payments = await listPayments(db, { invoiceId: invoice.id, limit: 200 });
  const balance = balanceOf(invoice);
  return {
    title: `Invoice #${invoice.number}`,
    invoice,
    items,
    lead,
    leadName: leadName(lead),
    payments,
    balance,
    taxRate: taxRateText(invoice.tax_rate_bps),
    payable: (invoice.status === 'open' || invoice.status === 'partially_paid') && balance > 0,
    methodOptions,
    values: { amount: moneyInputValue(balance, invoice.currency), method: 'cash', paid_on: todayIn(org.time_zone) } as Record<string, unknown>,
  };
}

adminRouter.get(
  '/invoices/:id',
  orgPage(async ({ req, db, org }) => ({
    render: 'admin/invoices/show',
    locals: await invoicePageLocals(db, org, routeId(req.params)),
  })),
);

adminRouter.get(
  '/invoices/:id/edit',
  orgPage(async ({ req, db }) => {
    const invoice = await getInvoice(db, routeId(req.params));
    const items = await getInvoiceItems(db, invoice.id);
    return {
      render: 'admin/invoices/form',
      locals: { ...(await formLocals(db, `Edit invoice #${invoice.number}`, `/invoices/${invoice.id}`, valuesFrom(invoice, items))), invoice },
    };
  }),
);

adminRouter.post(
  '/invoices/:id',
  orgPage(async ({ req, db, org, actor }) => {
    const invoice = await getInvoice(db, routeId(req.params));
    try {
      const input = parseForm(invoiceFormSchema(org.currency), req.body);
      await updateInvoice(db, invoice.id, input, actor);
      return { redirect: `/invoices/${invoice.id}`, flash: `Invoice #${invoice.number} saved.` };
    } catch (err) {
      const errors = (err as { fields?: Record<string, string> }).fields;
      return formFailure('admin/invoices/form', err, {
        ...(await formLocals(db, `Edit invoice #${invoice.number}`, `/invoices/${invoice.id}`, bodyValues(req), errors)),
        invoice,
      });
    }
  }),
);

adminRouter.post(
  '/invoices/:id/issue',
  orgPage(async ({ req, db, actor }) => {
    const { invoice, alreadyIssued } = await issueInvoice(db, routeId(req.params), actor);
    return {
      redirect: `/invoices/${invoice.id}?issued=1`,
      flash: alreadyIssued ? `Invoice #${invoice.number} was already issued.` : `Invoice #${invoice.number} is issued. Now send the customer their portal link.`,
    };
  }),
);

adminRouter.post(
  '/invoices/:id/void',
  orgPage(async ({ req, db, actor }) => {
    const invoice = await voidInvoice(db, routeId(req.params), actor);
    return { redirect: `/invoices/${invoice.id}`, flash: `Invoice #${invoice.number} is void.` };
  }),
);
