// Payment receipts: one outbox row per recorded payment, stored in the caller's
// transaction by queue_payment_receipts() (migrations/20261222010000_receipt_text_in_typescript.ts),
// then worded here, in the same transaction, in the customer's language (theirs,
// else the org's) from the catalogue (messages:receipt), with money and dates in
// that language and the org's country. A payment seen again (a repeated webhook,
// reconciliation) queues nothing: the receipt row is unique per payment.
import Handlebars from 'handlebars';
import { formatLocale, languageOf, t, type Language } from '../../i18n/index.js';
import { cachedFormatter } from '../../lib/intl.js';
import { formatMoney } from '../../lib/money.js';
import { brandedEmailHtml, brandingOfFacts, ORG_BRANDING_COLUMNS, type OrgBrandingFacts } from '../email-layout.js';
import { phoneText } from '../../lib/phone.js';
import type { Db } from '../tenancy.js';

/** Queues a receipt for each succeeded payment that has none yet; returns the new delivery ids. */
export async function queueReceipts(db: Db, paymentIds: string[]): Promise<string[]> {
  if (paymentIds.length === 0) return [];
  const { rows } = await db.raw<{ rows: { id: string }[] }>('select id from queue_payment_receipts(?::uuid[]) as id', [paymentIds]);
  const ids = rows.map((r) => r.id);
  if (ids.length) await wordReceipts(db, ids);
  return ids;
}

/**
 * Stops the receipt of a payment that was not received after all, when it has not gone out yet (a claimed
 * one is already on its way); `reason` is the message key its log shows. Returns how many were stopped.
 */
export async function stopUnsentReceipt(db: Db, paymentId: string, reason: string): Promise<number> {
  return db('message_deliveries')
    .where({ payment_id: paymentId, purpose: 'receipt' })
    .whereIn('status', ['pending', 'queued'])
    .update({ status: 'failed', last_error: reason, updated_at: db.fn.now() });
}

interface ReceiptFacts extends OrgBrandingFacts {
  id: string;
  channel: 'email' | 'sms';
  first_name: string;
  language: Language | null;
  time_zone: string;
  amount_cents: string | number;
  currency: string;
  paid_at: Date;
  invoice_number: number | null;
  invoice_owed_cents: string | number | null;
  invoice_currency: string | null;
  proposal_number: number | null;
}

export interface ReceiptText {
  subject: string | null;
  text: string;
  html: string | null;
}

/** A receipt's subject and text (and HTML for email) in the customer's language. */
export function receiptText(f: ReceiptFacts): ReceiptText {
  const lang = f.language ?? languageOf(f.locale);
  const locale = formatLocale(lang, f.locale);
  const amount = formatMoney(Number(f.amount_cents), f.currency, locale);
  const what =
    f.invoice_number !== null
      ? t(lang, 'messages:receipt.forInvoice', { number: f.invoice_number })
      : t(lang, 'messages:receipt.forDeposit', { number: f.proposal_number });
  const org = f.org_name;
  if (f.channel === 'sms') return { subject: null, text: t(lang, 'messages:receipt.sms', { org, amount, what }), html: null };
  const date = cachedFormatter(
    `receipt-date|${locale}|${f.time_zone}`, // i18n-exempt: a cache key
    () => new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: f.time_zone }),
  ).format(f.paid_at);
  const owed = f.invoice_owed_cents === null ? null : Number(f.invoice_owed_cents);
  const balance =
    owed === null
      ? t(lang, 'messages:receipt.credited')
      : owed > 0
        ? t(lang, 'messages:receipt.stillOwed', { amount: formatMoney(owed, f.invoice_currency ?? f.currency, locale) })
        : t(lang, 'messages:receipt.paidInFull');
  const e = Handlebars.escapeExpression;
  const text = [
    t(lang, 'messages:receipt.greeting', { name: f.first_name }),
    '',
    `${t(lang, 'messages:receipt.thanks', { org, amount, what, date })}\n${balance}`,
    '',
    t(lang, 'messages:receipt.attached'),
    '',
    [org, phoneText(f.org_phone, f.locale), f.org_email].filter((part) => part !== null).join('\n'),
  ].join('\n');
  const subject = t(lang, 'messages:receipt.subject', { org, what });
  // The business's name, phone and email close the text; in the HTML the branded layout's foot carries them.
  const html = brandedEmailHtml({
    lang,
    subject,
    paragraphsHtml: [
      e(t(lang, 'messages:receipt.greeting', { name: f.first_name })),
      t(lang, 'messages:receipt.thanksHtml', { org: e(org), amount: `<strong>${e(amount)}</strong>`, what: e(what), date: e(date) }),
      e(balance),
      e(t(lang, 'messages:receipt.attached')),
    ],
    brand: brandingOfFacts(f),
  });
  return { subject, text, html };
}

async function wordReceipts(db: Db, deliveryIds: string[]): Promise<void> {
  const { rows } = await db.raw<{ rows: ReceiptFacts[] }>(
    `select d.id, d.channel, l.first_name, l.language, ${ORG_BRANDING_COLUMNS}, o.time_zone, y.amount_cents, y.currency, y.paid_at,
            v.number as invoice_number, v.total_cents - v.amount_paid_cents as invoice_owed_cents, v.currency as invoice_currency,
            pr.number as proposal_number
       from message_deliveries d
       join payments y on y.org_id = d.org_id and y.id = d.payment_id
       join leads l on l.org_id = d.org_id and l.id = d.lead_id
       join organizations o on o.id = d.org_id
       -- A deposit held by an invoice still a draft is the proposal's to the customer, who has not seen that invoice.
       left join invoices v on v.org_id = y.org_id and v.id = y.invoice_id and not (v.status = 'draft' and y.proposal_id is not null)
       left join proposals pr on pr.org_id = y.org_id and pr.id = y.proposal_id
      where d.id = any(?::uuid[])`,
    [deliveryIds],
  );
  for (const facts of rows) {
    const worded = receiptText(facts);
    await db('message_deliveries')
      .where({ id: facts.id })
      .update({ subject: worded.subject, body_text: worded.text, body_html: worded.html });
  }
}
