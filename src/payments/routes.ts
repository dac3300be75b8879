// Admin pages for payments: the list, one payment with its refunds, and the
// manual payment / refund forms.
import { Router, type Request } from 'express';
import { pageOf, pageWindow } from '../http/listing.js';
import { formFailure, orgPage } from '../http/page.js';
import { parseForm } from '../http/validate.js';
import { routeId } from '../leads/common.js';
import { getLead, leadName } from '../leads/service.js';
import { getInvoice } from '../invoices/service.js';
import { invoicePageLocals } from '../invoices/routes.js';
import { todayIn, zonedToInstant } from '../jobs/time.js';
import { FormError } from '../http/errors.js';
import { moneyInputValue } from '../format.js';
import { paymentFormSchema, paymentListQuerySchema, refundFormSchema } from './schema.js';
import { getPayment, listPayments, recordPayment, recordRefund, refundedSoFar } from './service.js';
import type { Db } from '../db/tenancy.js';

export const adminRouter = Router();

function bodyValues(req: Request): Record<string, unknown> {
  const { _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
  return values;
}

adminRouter.get(
  '/payments',
  orgPage(async ({ req, db }) => {
    const query = paymentListQuerySchema.parse(req.query);
    const rows = await listPayments(db, pageWindow(query.page));
    const page = pageOf(rows, query.page, '/payments');
    return {
      render: 'admin/payments/index',
      locals: {
        title: 'Payments',
        payments: page.rows,
        prevUrl: page.prevUrl,
        nextUrl: page.nextUrl,
      },
    };
  }),
);

async function paymentPageLocals(db: Db, id: string) {
  const payment = await getPayment(db, id);
  const invoice = await getInvoice(db, payment.invoice_id);
  const lead = await getLead(db, payment.lead_id);
  const refunds = await db('payments').where({ refund_of: payment.id }).orderBy('created_at');
  const refunded = payment.kind === 'payment' ? await refundedSoFar(db, payment.id) : 0;
  const refundable = payment.kind === 'payment' && payment.status === 'succeeded' && payment.source === 'manual' ? Number(payment.amount_cents) - refunded : 0;
  const original = payment.refund_of ? await getPayment(db, payment.refund_of) : null;
  return {
    title: payment.kind === 'refund' ? 'Refund' : 'Payment',
    payment,
    invoice,
    lead,
    leadName: leadName(lead),
    refunds,
    original,
    refundable,
    values: { amount: refundable > 0 ? moneyInputValue(refundable, payment.currency) : '' } as Record<string, unknown>,
  };
}

adminRouter.get(
  '/payments/:id',
  orgPage(async ({ req, db }) => ({ render: 'admin/payments/show', locals: await paymentPageLocals(db, routeId(req.params)) })),
);

adminRouter.post(
  '/invoices/:invoiceId/payments',
  orgPage(async ({ req, db, org, actor }) => {
    const invoice = await getInvoice(db, routeId(req.params, 'invoiceId'));
    try {
      const input = parseForm(paymentFormSchema(invoice.currency), req.body);
      // A payment dated today keeps the current time; an earlier day is noon in the org's zone.
      const today = todayIn(org.time_zone);
      if (input.paid_on && input.paid_on > today) throw new FormError({ paid_on: 'The date cannot be in the future' });
      const paidAt = input.paid_on && input.paid_on !== today ? zonedToInstant(input.paid_on, '12:00', org.time_zone) : null;
      const { invoice: updated } = await recordPayment(
        db,
        { invoiceId: invoice.id, amountCents: input.amount, method: input.method, reference: input.reference, paidAt },
        actor,
      );
      return {
        redirect: `/invoices/${invoice.id}`,
        flash: updated.status === 'paid' ? `Payment recorded. Invoice #${invoice.number} is paid in full.` : `Payment recorded on invoice #${invoice.number}.`,
      };
    } catch (err) {
      const locals = await invoicePageLocals(db, org, invoice.id);
      return formFailure('admin/invoices/show', err, { ...locals, values: bodyValues(req) });
    }
  }),
);

adminRouter.post(
  '/payments/:id/refund',
  orgPage(async ({ req, db, actor }) => {
    const payment = await getPayment(db, routeId(req.params));
    try {
      const input = parseForm(refundFormSchema(payment.currency), req.body);
      const { refund } = await recordRefund(db, payment.id, { amountCents: input.amount, reference: input.reference }, actor);
      return { redirect: `/payments/${payment.id}`, flash: `Refund recorded (${moneyInputValue(Number(refund.amount_cents), refund.currency)}).` };
    } catch (err) {
      const locals = await paymentPageLocals(db, payment.id);
      return formFailure('admin/payments/show', err, { ...locals, values: bodyValues(req) });
    }
  }),
);


