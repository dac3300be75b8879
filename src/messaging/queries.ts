// Sending the portal link: what would be sent (destination, rendered message,
// problems that stop it), delivery history and the log.
import type { DeliveryRow as StoredDelivery, OrgRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { formatLocale, languageOf, t, translate, type Language } from '../i18n/index.js';
import { notFound } from '../lib/errors.js';
import { balanceOf } from '../lib/balance.js';
import { formatDate } from '../lib/dates.js';
import { formatMoney } from '../lib/money.js';
import { isUuid } from '../lib/ids.js';
import { activePortalLink } from '../portal-links/queries.js';
import { CHANNEL_LABELS, CONTEXT_LABELS, e164Schema, emailSchema, type Channel, type MessageContext, type SendQuery } from './schema.js';
import { PORTAL_LINK_PLACEHOLDER, fillPortalLink, redactPortalLink } from './link-placeholder.js';
import { brandingOf } from '../db/email-layout.js';
import { loadTemplate, renderMessage, usableTemplate, type RenderedMessage } from './templates.js';
import { channelMode, missingSettings } from './transports.js';

export interface LeadContact {
  id: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone: string | null;
  /** The language the customer reads (null: the org's). */
  language?: Language | null;
}

/** The customer, or 404 (another org's id looks exactly like a missing one). */
async function findLeadContact(db: Db, leadId: string): Promise<LeadContact> {
  if (!isUuid(leadId)) throw notFound('messages:notFound.customer');
  const lead = await db('leads')
    .where({ id: leadId })
    .first<LeadContact | undefined>('id', 'first_name', 'last_name', 'email', 'phone', 'language');
  if (!lead) throw notFound('messages:notFound.customer');
  return lead;
}

export interface Destination {
  to: string | null;
  problem: string | null;
}

/** The checked phone number or email a channel would use, or why it can't be used (in the contractor's `lang`). */
export function destinationFor(lead: LeadContact, channel: Channel, lang: Language = 'en'): Destination {
  const name = lead.first_name;
  if (channel === 'sms') {
    if (!lead.phone) return { to: null, problem: t(lang, 'messages:destination.noMobile', { name }) };
    const parsed = e164Schema.safeParse(lead.phone);
    if (!parsed.success) {
      const problem = translate(lang, parsed.error.issues[0].message);
      return { to: null, problem: t(lang, 'messages:destination.badPhone', { name, phone: lead.phone, problem }) };
    }
    return { to: parsed.data, problem: null };
  }
  if (!lead.email) return { to: null, problem: t(lang, 'messages:destination.noEmail', { name }) };
  const parsed = emailSchema.safeParse(lead.email);
  if (!parsed.success) {
    const problem = translate(lang, parsed.error.issues[0].message);
    return { to: null, problem: t(lang, 'messages:destination.badEmail', { name, email: lead.email, problem }) };
  }
  return { to: parsed.data, problem: null };
}

/** Why a channel can't send on this server (production without credentials), or null. */
export function channelSetupProblem(channel: Channel, lang: Language = 'en'): string | null {
  if (channelMode(channel) !== 'unavailable') return null;
  return t(lang, channel === 'sms' ? 'messages:setup.sms' : 'messages:setup.email', { settings: missingSettings(channel).join(', ') });
}

interface ContextRecord {
  proposalId: string | null;
  proposalNumber: number | null;
  invoiceId: string | null;
  invoiceNumber: number | null;
  invoiceBalanceCents: number | null;
  invoiceCurrency: string | null;
  invoiceDueDate: string | Date | null;
  /** The invoice is a draft: sending issues it first ("Issue and send"), in the same transaction. */
  invoiceDraft: boolean;
  /** Why this invoice can't go out (a draft that may not be issued, a void invoice), or null. */
  invoiceProblem: string | null;
  jobId: string | null;
}

interface InvoiceContext {
  id: string;
  number: number;
  status: string;
  currency: string;
  total_cents: string | number;
  amount_paid_cents: string | number;
  due_date: string | Date | null;
}

/** The same rules issueInvoice applies, said before the contractor presses the button. */
function invoiceProblem(row: InvoiceContext, lang: Language): string | null {
  if (row.status === 'void') return t(lang, 'messages:invoiceProblem.void', { number: row.number });
  if (row.status === 'draft' && Number(row.total_cents) <= 0) return t(lang, 'messages:invoiceProblem.zero', { number: row.number });
  return null;
}

/** The proposal, invoice or job the message is about: the one named, or the customer's latest fitting one. */
async function contextRecord(db: Db, leadId: string, query: SendQuery, lang: Language): Promise<ContextRecord> {
  const record: ContextRecord = {
    proposalId: null,
    proposalNumber: null,
    invoiceId: null,
    invoiceNumber: null,
    invoiceBalanceCents: null,
    invoiceCurrency: null,
    invoiceDueDate: null,
    invoiceDraft: false,
    invoiceProblem: null,
    jobId: null,
  };
  if (query.context === 'proposal' || query.proposalId) {
    const q = db('proposals').where({ lead_id: leadId });
    const row = query.proposalId
      ? await q.andWhere({ id: query.proposalId }).first<{ id: string; number: number } | undefined>('id', 'number')
      : await q
          .andWhere({ status: 'pending' })
          .orderBy('created_at', 'desc')
          .first<{ id: string; number: number } | undefined>('id', 'number');
    if (query.proposalId && !row) throw notFound('messages:notFound.proposal');
    if (row) Object.assign(record, { proposalId: row.id, proposalNumber: row.number });
  }
  if (query.context === 'invoice' || query.invoiceId) {
    const q = db('invoices').where({ lead_id: leadId });
    type InvoiceFacts = InvoiceContext | undefined;
    const columns = ['id', 'number', 'status', 'currency', 'total_cents', 'amount_paid_cents', 'due_date'];
    const row = query.invoiceId
      ? await q.andWhere({ id: query.invoiceId }).first<InvoiceFacts>(columns)
      : await q.whereIn('status', ['open', 'partially_paid']).orderBy('issue_date', 'desc').first<InvoiceFacts>(columns);
    if (query.invoiceId && !row) throw notFound('messages:notFound.invoice');
    if (row) {
      Object.assign(record, {
        invoiceId: row.id,
        invoiceNumber: row.number,
        invoiceBalanceCents: balanceOf(row),
        invoiceCurrency: row.currency,
        invoiceDueDate: row.due_date,
        invoiceDraft: row.status === 'draft',
        invoiceProblem: invoiceProblem(row, lang),
      });
    }
  }
  if (query.jobId) {
    const row = await db('jobs').where({ lead_id: leadId, id: query.jobId }).first<{ id: string } | undefined>('id');
    if (!row) throw notFound('messages:notFound.job');
    record.jobId = row.id;
  }
  return record;
}

export interface SendPreview {
  lead: LeadContact;
  query: SendQuery;
  channel: Channel;
  context: MessageContext;
  channelLabel: string;
  contextLabel: string;
  to: string | null;
  link: { id: string; url: string } | null;
  /** What the customer will get, real link included: shown on the confirm page, never stored. */
  message: RenderedMessage | null;
  /** The same message with the link placeholder in place of the link: what storeDelivery writes. */
  storedMessage: RenderedMessage | null;
  record: ContextRecord;
  /** Everything that stops the send; empty when it can go. */
  problems: string[];
  /** The org's own wording couldn't be used and the default was: why, in words for the contractor. */
  templateFallback: string | null;
  /** No active portal link: the page points to the customer page's Generate button. */
  needsPortalLink: boolean;
  /** The language the customer reads the message in: theirs, else the org's. */
  language: Language;
}

/** What a send would do, without doing it: the page shows this before the contractor confirms. */
export async function previewSend(db: Db, org: OrgRow, leadId: string, query: SendQuery): Promise<SendPreview> {
  // The contractor reads the page in the org's language; the customer gets the message in theirs.
  const staff = languageOf(org.locale);
  const lead = await findLeadContact(db, leadId);
  const language = lead.language ?? staff;
  const locale = formatLocale(language, org.locale);
  const record = await contextRecord(db, lead.id, query, staff);
  const problems: string[] = [];
  if (record.invoiceProblem) problems.push(record.invoiceProblem);
  const setup = channelSetupProblem(query.channel, staff);
  if (setup) problems.push(setup);
  const destination = destinationFor(lead, query.channel, staff);
  if (destination.problem) problems.push(destination.problem);
  const link = await activePortalLink(db, lead.id);
  if (!link) problems.push(t(staff, 'messages:send.noLink', { name: lead.first_name }));
  let message: RenderedMessage | null = null;
  let storedMessage: RenderedMessage | null = null;
  let templateFallback: string | null = null;
  if (link) {
    const usable = usableTemplate(query.channel, query.context, await loadTemplate(db, query.channel, query.context, language), language);
    const template = usable.template;
    if (usable.fellBack) {
      templateFallback = t(staff, 'messages:send.templateFallback', {
        channel: t(staff, CHANNEL_LABELS[query.channel]).toLowerCase(),
        context: t(staff, CONTEXT_LABELS[query.context]),
      });
    }
    // Rendered once with the placeholder; the preview fills in the link exactly as the worker will.
    storedMessage = renderMessage(
      query.channel,
      template,
      {
        firstName: lead.first_name,
        businessName: org.name,
        link: PORTAL_LINK_PLACEHOLDER,
        proposalNumber: record.proposalNumber,
        invoiceNumber: record.invoiceNumber,
        amountDue:
          record.invoiceBalanceCents !== null && record.invoiceCurrency
            ? formatMoney(record.invoiceBalanceCents, record.invoiceCurrency, locale)
            : null,
        dueDate: record.invoiceDueDate ? formatDate(record.invoiceDueDate, org.time_zone, locale) : null,
      },
      brandingOf(org),
      language,
    );
    const filled = fillPortalLink(
      { subject: storedMessage.subject, body_text: storedMessage.text, body_html: storedMessage.html },
      link.url,
    );
    message = { subject: filled.subject, text: filled.body_text, html: filled.body_html };
  }
  return {
    lead,
    query,
    channel: query.channel,
    context: query.context,
    channelLabel: t(staff, CHANNEL_LABELS[query.channel]),
    contextLabel: t(staff, CONTEXT_LABELS[query.context]),
    to: destination.to,
    link,
    message,
    storedMessage,
    record,
    problems,
    templateFallback,
    needsPortalLink: !link,
    language,
  };
}

const STATUS_LABELS: Record<StoredDelivery['status'], string> = {
  pending: 'messages:status.queued',
  queued: 'messages:status.queued',
  sending: 'messages:status.sending',
  sent: 'messages:status.sent',
  delivered: 'messages:status.delivered',
  failed: 'messages:status.failed',
  undeliverable: 'messages:status.undeliverable',
};

/** What a row is about when its purpose says more than its context; a person's message ('manual') says its context. */
const PURPOSE_LABELS: Partial<Record<StoredDelivery['purpose'], string>> = {
  notice: 'messages:purpose.notice',
  receipt: 'messages:purpose.receipt',
  autopay: 'messages:purpose.autopay',
};

/** The language the dashboard of the current org reads in (its locale's). */
async function staffLanguage(db: Db): Promise<Language> {
  const org = await db('organizations').first<{ locale: string } | undefined>('locale');
  return languageOf(org?.locale);
}

export interface DeliveryRow extends StoredDelivery {
  first_name?: string;
  last_name?: string;
}

/** A stored delivery for display, in the dashboard's `lang`: the portal link redacted in every part. */
function decorate<T extends DeliveryRow>(row: T, lang: Language) {
  return {
    ...redactPortalLink(row),
    // Stored as a message (deliver.ts) or, on older rows, as words: shown in the reader's language when it is a message.
    last_error: row.last_error === null ? null : translate(lang, row.last_error),
    statusLabel: t(lang, STATUS_LABELS[row.status]),
    channelLabel: t(lang, CHANNEL_LABELS[row.channel]),
    contextLabel:
      row.purpose === 'followup'
        ? t(lang, 'messages:purpose.followup', { context: t(lang, CONTEXT_LABELS[row.context]).toLowerCase() })
        : t(lang, PURPOSE_LABELS[row.purpose] ?? CONTEXT_LABELS[row.context]),
    isProblem: row.status === 'failed' || row.status === 'undeliverable',
    isDevOutbox: row.provider_id?.startsWith('dev-') ?? false,
  };
}

export async function getDelivery(db: Db, deliveryId: string) {
  if (!isUuid(deliveryId)) throw notFound('messages:notFound.message');
  // i18n-exempt: table aliases
  const row = await db('message_deliveries as d')
    // i18n-exempt: table aliases
    .join('leads as l', 'l.id', 'd.lead_id')
    .where('d.id', deliveryId)
    .first<DeliveryRow | undefined>('d.*', 'l.first_name', 'l.last_name');
  if (!row) throw notFound('messages:notFound.message');
  return decorate(row, await staffLanguage(db));
}

export async function leadDeliveries(db: Db, leadId: string, limit = 10) {
  const rows = await db('message_deliveries')
    .where({ lead_id: leadId })
    // What was sent to the customer: not the business's own notices about them.
    .whereNot({ purpose: 'notice' })
    .orderBy('created_at', 'desc')
    .limit(limit)
    .select<DeliveryRow[]>('*');
  const lang = await staffLanguage(db);
  return rows.map((row) => decorate(row, lang));
}

/** The message log, newest first: one window of rows (see lib/pagination.ts#pageWindow). */
export async function messageLog(db: Db, filter: { status?: StoredDelivery['status']; limit: number; offset: number }) {
  // i18n-exempt: table aliases
  const q = db('message_deliveries as d').join('leads as l', 'l.id', 'd.lead_id');
  if (filter.status) q.where('d.status', filter.status);
  const rows = await q
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .offset(filter.offset)
    .limit(filter.limit)
    .select<DeliveryRow[]>('d.*', 'l.first_name', 'l.last_name');
  const lang = await staffLanguage(db);
  return rows.map((row) => decorate(row, lang));
}

/** Where the business hears about its customers: its public email, else the owner's login email. */
export async function businessNoticeAddress(db: Db): Promise<string | null> {
  const org = await db('organizations').first<{ email: string | null }>('email');
  if (org.email) return org.email;
  const owner = await db('users').where({ role: 'owner' }).orderBy('created_at').first<{ email: string } | undefined>('email');
  return owner?.email ?? null;
}
