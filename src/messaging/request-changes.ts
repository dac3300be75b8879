// requestProposalChanges: crosses features in one transaction — the customer's
// message freezes the version they saw and moves the proposal to
// changes_requested (proposals/revisions.ts), and an email telling the business
// is stored in the outbox (messaging), sent by the worker once this commits.
import { config } from '../config.js';
import type { Actor } from '../db/audit.js';
import type { Db } from '../db/tenancy.js';
import { markChangesRequested } from '../proposals/revisions.js';
import { changeRequestNotice } from './business-notices.js';
import { storeBusinessNotice } from './commands.js';
import { businessNoticeAddress } from './queries.js';

export async function requestProposalChanges(
  db: Db,
  proposalId: string,
  input: { message: string; ip?: string | null; userAgent?: string | null },
  actor: Actor,
): Promise<{ alreadyDecided: boolean; deliveryId: string | null }> {
  const { proposal, alreadyDecided } = await markChangesRequested(db, proposalId, input, actor);
  if (alreadyDecided) return { alreadyDecided, deliveryId: null };
  const to = await businessNoticeAddress(db);
  if (!to) return { alreadyDecided, deliveryId: null };
  const lead = await db('leads')
    .where({ id: proposal.lead_id })
    .first<{ first_name: string; last_name: string }>('first_name', 'last_name');
  const customer = [lead.first_name, lead.last_name].filter(Boolean).join(' ');
  const url = `${config.publicUrl}/proposals/${proposal.id}`;
  // In the business's language, from the catalogue.
  const { subject, text, html } = await changeRequestNotice(db, {
    customer,
    number: proposal.number,
    title: proposal.title,
    message: input.message.trim(),
    url,
  });
  const delivery = await storeBusinessNotice(db, { leadId: proposal.lead_id, to, subject, text, html, proposalId: proposal.id }, actor);
  return { alreadyDecided, deliveryId: delivery.id };
}
