// Admin pages for invoices: the list, drafts (new, edit, from a proposal or a job)
// and issuing. The invoice's own page, with its payments, the payment form and
// Void, is in payments/routes.ts: it shows and changes money.
import { msg } from '../i18n/index.js';
import { Router } from 'express';
import { formFailure, orgPage } from '../http/page.js';
import type { Db } from '../db/tenancy.js';
import { addDays, todayIn } from '../lib/dates.js';
import { formValues, parseForm } from '../lib/forms.js';
import { idOrNotFound, routeId } from '../lib/ids.js';
import { lineFormValuesFrom, taxRateText } from '../lib/line-items.js';
import { pageOf, pageWindow, statusFilterOptions } from '../lib/pagination.js';
import { documentFormLocals, getLead } from '../leads/queries.js';
import {
  createInvoice,
  createInvoiceFromJob,
  createInvoiceFromProposal,
  DEFAULT_PAYMENT_TERMS_DAYS,
  invoiceLocked,
  issueInvoice,
  updateInvoice,
} from './commands.js';
import { getInvoice, getInvoiceItems, listInvoices, type InvoiceItemRow, type InvoiceRow } from './queries.js';
import { INVOICE_STATUSES, invoiceFormSchema, invoiceListQuerySchema } from './schema.js';

export const adminRouter = Router();

function formLocals(db: Db, title: string, action: string, values: Record<string, unknown>, errors?: Record<string, string>) {
  return documentFormLocals(db, { title, action, values, errors });
}

function valuesFrom(invoice: InvoiceRow, items: InvoiceItemRow[]) {
  return {
    lead_id: invoice.lead_id,
    property_id: invoice.property_id ?? '',
    issue_date: invoice.issue_date,
    due_date: invoice.due_date,
    tax_rate: taxRateText(invoice.tax_rate_bps),
    customer_message: invoice.customer_message,
    internal_notes: invoice.internal_notes,
    items: lineFormValuesFrom(items, invoice.currency),
  };
}

const formErrors = (err: unknown) => (err as { fields?: Record<string, string> }).fields;

adminRouter.get(
  '/invoices',
  orgPage(async ({ req, db }) => {
    const query = invoiceListQuerySchema.parse(req.query);
    const rows = await listInvoices(db, { status: query.status, ...pageWindow(query.page) });
    const page = pageOf(rows, query.page, '/invoices', query.status ? { status: query.status } : {});
    return {
      render: 'admin/invoices/index',
      locals: {
        title: 'dashboard:nav.invoices',
        invoices: page.rows,
        query,
        statusOptions: statusFilterOptions(INVOICE_STATUSES),
        pagination: page.pagination,
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
      locals: await formLocals(db, 'dashboard:invoice.newTitle', '/invoices', {
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
      return { redirect: `/invoices/${invoice.id}`, flash: msg('dashboard:invoice.draftSaved', { number: invoice.number }) };
    } catch (err) {
      return formFailure(
        'admin/invoices/form',
        err,
        await formLocals(db, 'dashboard:invoice.newTitle', '/invoices', formValues(req.body), formErrors(err)),
      );
    }
  }),
);

adminRouter.get(
  '/invoices/:id/edit',
  orgPage(async ({ req, db }) => {
    const invoice = await getInvoice(db, routeId(req.params));
    // No form that can only be refused: an issued invoice's page says why.
    const locked = invoiceLocked(invoice);
    if (locked) return { redirect: `/invoices/${invoice.id}`, flash: locked, flashType: 'error' };
    const items = await getInvoiceItems(db, invoice.id);
    return {
      render: 'admin/invoices/form',
      locals: {
        ...(await formLocals(
          db,
          msg('dashboard:invoice.editTitle', { number: invoice.number }),
          `/invoices/${invoice.id}`,
          valuesFrom(invoice, items),
        )),
        invoice,
      },
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
      return { redirect: `/invoices/${invoice.id}`, flash: msg('dashboard:invoice.saved', { number: invoice.number }) };
    } catch (err) {
      const locals = await formLocals(
        db,
        msg('dashboard:invoice.editTitle', { number: invoice.number }),
        `/invoices/${invoice.id}`,
        formValues(req.body),
        formErrors(err),
      );
      return formFailure('admin/invoices/form', err, { ...locals, invoice });
    }
  }),
);

adminRouter.post(
  '/invoices/:id/issue',
  orgPage(async ({ req, db, actor }) => {
    const { invoice, alreadyIssued } = await issueInvoice(db, routeId(req.params), actor);
    return {
      redirect: `/invoices/${invoice.id}?issued=1`,
      flash: alreadyIssued
        ? msg('dashboard:invoice.alreadyIssued', { number: invoice.number })
        : msg('dashboard:invoice.issuedNow', { number: invoice.number }),
    };
  }),
);

adminRouter.post(
  '/proposals/:id/invoice',
  orgPage(async ({ req, db, org, actor }) => {
    const invoice = await createInvoiceFromProposal(db, routeId(req.params), org, actor);
    return {
      redirect: `/invoices/${invoice.id}`,
      flash: msg('dashboard:invoice.fromProposalCreated', { number: invoice.number }),
    };
  }),
);

adminRouter.post(
  '/jobs/:id/invoice',
  orgPage(async ({ req, db, org, actor }) => {
    const invoice = await createInvoiceFromJob(db, routeId(req.params), org, actor);
    return {
      redirect: `/invoices/${invoice.id}`,
      flash: msg('dashboard:invoice.fromJobCreated', { number: invoice.number }),
    };
  }),
);
