// Admin pages for money: the payments list, one payment with its refunds, and the
// invoice's own page (balance, payments received, Record payment, Void) with the
// forms that change what is owed.
import { Router } from 'express';
import { config } from '../config.js';
import { formFailure, orgPage } from '../http/page.js';
import { msg, t, type Language } from '../i18n/index.js';
import { balanceOf } from '../lib/balance.js';
import { todayIn, zonedToInstant } from '../lib/dates.js';
import { FormError } from '../lib/errors.js';
import { formValues, parseForm } from '../lib/forms.js';
import { routeId } from '../lib/ids.js';
import { formatMoney } from '../lib/money.js';
import { pageOf, pageWindow } from '../lib/pagination.js';
import { getInvoice } from '../invoices/queries.js';
import { enqueueDeliveryJob } from '../queue/queues.js';
import { proposalPage } from '../proposals/page.js';
import { markNotReceived, recordDepositPayment, recordPayment, recordRefund } from './manual.js';
import { getPayment, invoicePage, listPayments, paymentPage } from './queries.js';
import { notReceivedFormSchema, paymentFormSchema, paymentListQuerySchema, refundFormSchema } from './schema.js';
import { voidInvoice } from './void-invoice.js';

export const adminRouter = Router();

/**
 * When money recorded by hand arrived: null (now) for today; an earlier day is noon in
 * the org's zone (no time was asked); a later day is refused.
 */
function receivedAt(paidOn: string | undefined, timeZone: string): Date | null {
  const today = todayIn(timeZone);
  if (paidOn && paidOn > today) throw new FormError({ paid_on: 'settings:pay.futureDate' });
  return paidOn && paidOn !== today ? zonedToInstant(paidOn, '12:00', timeZone) : null;
}

/** The flash after a deposit recorded by hand: still part owed, or paid; on an invoice, or waiting for one. */
function depositFlash(outstandingCents: number, invoiceNumber: number | null): string {
  if (outstandingCents > 0) return 'depositRecordedPart';
  return invoiceNumber === null ? 'depositRecorded' : 'depositRecordedOnInvoice';
}

/** After the commit: the receipts' jobs (their outbox rows committed with the payment; the sweeper sends them if this fails). */
function queueReceiptJobs(orgId: string, receiptIds: string[]): () => Promise<void> {
  return async () => {
    if (!config.redisUrl) return;
    for (const deliveryId of receiptIds) await enqueueDeliveryJob({ deliveryId, orgId });
  };
}

adminRouter.get(
  '/payments',
  orgPage(async ({ req, res, db }) => {
    const query = paymentListQuerySchema.parse(req.query);
    const page = pageOf(await listPayments(db, pageWindow(query.page)), query.page, '/payments');
    return {
      render: 'admin/payments/index',
      locals: { title: t(res.locals.lang as Language, 'settings:pay.paymentsTitle'), payments: page.rows, pagination: page.pagination },
    };
  }),
);

adminRouter.get(
  '/payments/:id',
  orgPage(async ({ req, res, db }) => ({
    render: 'admin/payments/show',
    locals: await paymentPage(db, routeId(req.params), res.locals.lang as Language),
  })),
);

adminRouter.get(
  '/invoices/:id',
  orgPage(async ({ req, db, org }) => ({ render: 'admin/invoices/show', locals: await invoicePage(db, org, routeId(req.params)) })),
);

adminRouter.post(
  '/invoices/:invoiceId/payments',
  orgPage(async ({ req, db, org, actor }) => {
    const invoice = await getInvoice(db, routeId(req.params, 'invoiceId'));
    try {
      const input = parseForm(paymentFormSchema(invoice.currency), req.body);
      const paidAt = receivedAt(input.paid_on, org.time_zone);
      const { invoice: updated, receiptIds } = await recordPayment(
        db,
        {
          invoiceId: invoice.id,
          amountCents: input.amount,
          method: input.method,
          reference: input.reference,
          paidAt,
          sendReceipt: !input.no_receipt,
          locale: org.locale,
        },
        actor,
      );
      return {
        redirect: `/invoices/${invoice.id}`,
        afterCommit: queueReceiptJobs(org.id, receiptIds),
        // Say so when a receipt goes to the customer: recording a payment is not only a note for the books.
        flash: msg(`settings:pay.${updated.status === 'paid' ? 'recordedPaid' : 'recorded'}${receiptIds.length ? 'Receipt' : ''}`, {
          number: invoice.number,
        }),
      };
    } catch (err) {
      const locals = await invoicePage(db, org, invoice.id);
      return formFailure('admin/invoices/show', err, { ...locals, values: formValues(req.body) });
    }
  }),
);

adminRouter.post(
  // i18n-exempt: a route path
  '/proposals/:id/deposit-payments',
  orgPage(async ({ req, db, org, plan, actor }) => {
    const proposalId = routeId(req.params);
    try {
      const input = parseForm(paymentFormSchema(org.currency), req.body);
      const { payment, invoiceNumber, outstandingCents, receiptIds } = await recordDepositPayment(
        db,
        {
          proposalId,
          currency: org.currency,
          amountCents: input.amount,
          method: input.method,
          reference: input.reference,
          paidAt: receivedAt(input.paid_on, org.time_zone),
          sendReceipt: !input.no_receipt,
          locale: org.locale,
        },
        actor,
      );
      const amount = formatMoney(Number(payment.amount_cents), payment.currency, org.locale);
      return {
        redirect: `/proposals/${proposalId}`,
        afterCommit: queueReceiptJobs(org.id, receiptIds),
        // How much of the deposit is still owed, and where the money went (an invoice holding it, or the proposal until one does).
        flash: msg(`settings:pay.${depositFlash(outstandingCents, invoiceNumber)}${receiptIds.length ? 'Receipt' : ''}`, {
          amount,
          left: formatMoney(outstandingCents, payment.currency, org.locale),
          number: invoiceNumber ?? 0,
        }),
      };
    } catch (err) {
      const page = await proposalPage(db, org, plan, proposalId);
      return formFailure('admin/proposals/show', err, {
        ...page,
        depositForm: page.depositForm && { ...page.depositForm, values: formValues(req.body), open: true },
      });
    }
  }),
);

adminRouter.post(
  '/invoices/:id/void',
  orgPage(async ({ req, db, actor }) => {
    const invoice = await voidInvoice(db, routeId(req.params), actor);
    return { redirect: `/invoices/${invoice.id}`, flash: msg('settings:pay.voided', { number: invoice.number }) };
  }),
);

adminRouter.post(
  // i18n-exempt: a route path
  '/payments/:id/not-received',
  orgPage(async ({ req, res, db, org, actor }) => {
    const payment = await getPayment(db, routeId(req.params));
    try {
      const input = parseForm(notReceivedFormSchema, req.body);
      const { invoice } = await markNotReceived(db, payment.id, input, actor);
      const amount = formatMoney(Number(payment.amount_cents), payment.currency, org.locale);
      return {
        redirect: `/payments/${payment.id}`,
        // A deposit held by an invoice still a draft is owed as the deposit: that invoice is not issued yet.
        flash:
          invoice && invoice.status !== 'draft'
            ? msg('settings:pay.notReceivedInvoice', {
                amount,
                number: invoice.number,
                owed: formatMoney(balanceOf(invoice), invoice.currency, org.locale),
              })
            : msg('settings:pay.notReceivedDeposit', { amount }),
      };
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      const locals = await paymentPage(db, payment.id, res.locals.lang as Language);
      return formFailure('admin/payments/show', err, { ...locals, notReceivedValues: formValues(req.body), notReceivedOpen: true });
    }
  }),
);

adminRouter.post(
  '/payments/:id/refund',
  orgPage(async ({ req, res, db, org, actor }) => {
    const payment = await getPayment(db, routeId(req.params));
    try {
      const input = parseForm(refundFormSchema(payment.currency), req.body);
      const { refund } = await recordRefund(
        db,
        payment.id,
        { amountCents: input.amount, reference: input.reference, locale: org.locale },
        actor,
      );
      return {
        redirect: `/payments/${payment.id}`,
        flash: msg('settings:pay.refunded', { amount: formatMoney(Number(refund.amount_cents), refund.currency, org.locale) }),
      };
    } catch (err) {
      const locals = await paymentPage(db, payment.id, res.locals.lang as Language);
      return formFailure('admin/payments/show', err, { ...locals, values: formValues(req.body) });
    }
  }),
);
