// Sending the portal link: storing the delivery (the outbox row) in the caller's transaction.
// The messaging feature is the only writer of `message_deliveries` and `message_templates`.
import { recordAudit, type Actor } from '../db/audit.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import type { Language } from '../i18n/index.js';
import type { SendPreview } from './queries.js';
import type { Channel, MessageContext } from './schema.js';

/**
 * Stores the delivery and its audit event, in the caller's transaction. The
 * rendered content is stored with the link placeholder, never the link: the
 * worker fills it in from portal_link_id at send time.
 */
export async function storeDelivery(
  db: Db,
  preview: SendPreview,
  actor: Actor,
  options: { customerRequest?: boolean } = {},
): Promise<{ id: string }> {
  if (preview.problems.length || !preview.to || !preview.storedMessage || !preview.link) {
    throw new Error('storeDelivery called with a preview that has problems');
  }
  const [row] = await db('message_deliveries')
    .insert({
      org_id: currentOrgId(db),
      lead_id: preview.lead.id,
      portal_link_id: preview.link.id,
      channel: preview.channel,
      context: preview.context,
      to_address: preview.to,
      subject: preview.storedMessage.subject,
      body_text: preview.storedMessage.text,
      body_html: preview.storedMessage.html,
      status: 'pending',
      created_by: actor.type === 'user' ? actor.userId : null,
      // The customer asked for their link again from the portal's not-found page.
      customer_request: options.customerRequest ?? false,
    })
    .returning<{ id: string }[]>('id');
  await recordAudit(db, {
    actor,
    // i18n-exempt: audit action names
    action: 'message.queued',
    subjectType: 'lead',
    subjectId: preview.lead.id,
    data: {
      deliveryId: row.id,
      channel: preview.channel,
      context: preview.context,
      to: preview.to,
      ...(preview.record.proposalId ? { proposalId: preview.record.proposalId } : {}),
      ...(preview.record.invoiceId ? { invoiceId: preview.record.invoiceId } : {}),
      ...(preview.record.jobId ? { jobId: preview.record.jobId } : {}),
    },
  });
  return row;
}

/** The org's own wording for one channel, context and language (that language's default no longer applies). */
export async function saveTemplate(
  db: Db,
  template: { orgId: string; channel: Channel; context: MessageContext; language: Language; subject: string | null; body: string },
  actor: Actor,
): Promise<void> {
  await db('message_templates')
    .insert({
      org_id: template.orgId,
      channel: template.channel,
      context: template.context,
      language: template.language,
      subject: template.subject,
      body: template.body,
      updated_by: actor.type === 'user' ? actor.userId : null,
      updated_at: db.fn.now(),
    })
    .onConflict(['org_id', 'channel', 'context', 'language'])
    .merge(['subject', 'body', 'updated_by', 'updated_at']);
  await recordAudit(db, {
    actor,
    // i18n-exempt: audit action names
    action: 'message_template.saved',
    data: { channel: template.channel, context: template.context, language: template.language },
  });
}

/** Back to the language's default wording. Returns whether there was an override to remove. */
export async function resetTemplate(db: Db, channel: Channel, context: MessageContext, language: Language, actor: Actor): Promise<boolean> {
  const removed = await db('message_templates').where({ channel, context, language }).del();
  // i18n-exempt: audit action names
  if (removed) await recordAudit(db, { actor, action: 'message_template.reset', data: { channel, context, language } });
  return removed > 0;
}

/**
 * An email to the business itself about one of its customers (a change request
 * or a request for work from the portal), through the same outbox: stored here, sent by the worker
 * after commit. No portal link: it points at the dashboard.
 */
export async function storeBusinessNotice(
  db: Db,
  notice: { leadId: string; to: string; subject: string; text: string; html: string; proposalId?: string; workRequestId?: string },
  actor: Actor,
): Promise<{ id: string }> {
  const [row] = await db('message_deliveries')
    .insert({
      org_id: currentOrgId(db),
      lead_id: notice.leadId,
      channel: 'email',
      context: notice.proposalId ? 'proposal' : 'service',
      // To the business, not the customer it is about: listed as such, never as sent to them.
      purpose: 'notice',
      to_address: notice.to,
      subject: notice.subject,
      body_text: notice.text,
      body_html: notice.html,
      status: 'pending',
    })
    .returning<{ id: string }[]>('id');
  await recordAudit(db, {
    actor,
    // i18n-exempt: audit action names
    action: 'message.queued',
    subjectType: 'lead',
    subjectId: notice.leadId,
    data: {
      deliveryId: row.id,
      channel: 'email',
      context: notice.proposalId ? 'proposal' : 'service',
      to: notice.to,
      ...(notice.proposalId ? { proposalId: notice.proposalId } : {}),
      ...(notice.workRequestId ? { workRequestId: notice.workRequestId } : {}),
      audience: 'business',
    },
  });
  return row;
}
