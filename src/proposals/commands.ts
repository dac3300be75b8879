// Proposals: the only writer of `proposals` and `proposal_items`. Numbered quotes
// with line items; sending moves the customer along the pipeline. Approval, which
// also makes the job, is the jobs feature's approveProposal command.
import { msg } from '../i18n/index.js';
import { recordAudit, type Actor } from '../db/audit.js';
import type { ProposalItemRow, ProposalRow } from '../db/rows.js';
import { allocateNumber } from '../db/sql/counters.js';
import { currentOrgId, type Db } from '../db/tenancy.js';
import { conflict, fieldError, HttpError } from '../lib/errors.js';
import { computeFormLineItems, lineItemRows, type ComputedLineItem } from '../lib/line-items.js';
import { choiceTotals, hasChoices, resolveChoice, selectedIds, type ChoiceInput, type Totals } from '../lib/line-options.js';
import { advanceLeadStage } from '../leads/commands.js';
import { chosenProperty, getLead } from '../leads/queries.js';
import { depositColumns } from './deposit.js';
import { getProposal, getProposalItems, proposalContentSha256 } from './queries.js';
import type { ProposalSignatureInput } from './revisions.js';
import type { ProposalInput } from './schema.js';

export interface ProposalApproval {
  source: 'portal' | 'staff';
  approverName: string;
  ip?: string | null;
  userAgent?: string | null;
  /**
   * proposalContentSha256() of what the approver was shown (the portal form
   * carries it). When given and the proposal has changed since, the approval is
   * refused: nobody agrees to a price they never saw. Staff recording a phone
   * approval leave it out.
   */
  expectedContentSha256?: string | null;
  /** The portal's signature (drawn image or typed name): frozen with what was approved (revisions.ts). */
  signature?: ProposalSignatureInput;
  /** The customer's picks among optional lines and alternatives (portal); without them the preselected lines stand. */
  choice?: ChoiceInput | null;
  /**
   * The total the approver saw for their choice (portal): for a proposal with
   * choices, any other total, or null (the form had none), refuses the approval.
   * Staff leave it out.
   */
  expectedTotalCents?: number | null;
}

/** The id of the 409 an approval gets when the proposal changed after it was shown. */
export const PROPOSAL_CHANGED = 'proposal_changed';

const proposalChanged = (number: number) => new HttpError(409, PROPOSAL_CHANGED, msg('dashboard:proposal.errors.changed', { number }));

async function leadFor(db: Db, leadId: string) {
  return getLead(db, leadId).catch(() => {
    throw fieldError('lead_id', 'dashboard:doc.errors.chooseCustomer');
  });
}

async function writeItems(db: Db, proposalId: string, items: ComputedLineItem[]): Promise<void> {
  await db('proposal_items').where({ proposal_id: proposalId }).delete();
  await db('proposal_items').insert(lineItemRows(currentOrgId(db), 'proposal_id', proposalId, items));
}

export async function createProposal(db: Db, input: ProposalInput, actor: Actor, currency = 'USD'): Promise<ProposalRow> {
  const lead = await leadFor(db, input.lead_id);
  const property = await chosenProperty(db, lead.id, input.property_id);
  const { items, totals } = computeFormLineItems(input.items, input.tax_rate);
  const deposit = depositColumns(input, totals.total_cents, currency);
  const number = await allocateNumber(db, 'proposal');
  const [proposal] = await db('proposals')
    .insert({
      org_id: currentOrgId(db),
      lead_id: lead.id,
      property_id: property?.id ?? null,
      number,
      title: input.title,
      tax_rate_bps: input.tax_rate,
      ...totals,
      valid_until: input.valid_until ?? null,
      customer_message: input.customer_message,
      internal_notes: input.internal_notes,
      ...deposit,
      created_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<ProposalRow[]>('*');
  await writeItems(db, proposal.id, items);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'proposal.created',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number, lead_id: lead.id, total_cents: totals.total_cents },
  });
  return proposal;
}

/**
 * Why a proposal can't be edited any more (a message), or null when it can: a draft,
 * one sent and waiting, or one the customer asked changes to (a revision is an edit
 * too; sending it makes the next version).
 */
export function proposalLocked(proposal: Pick<ProposalRow, 'status' | 'number'>): string | null {
  if (proposal.status === 'draft' || proposal.status === 'pending' || proposal.status === 'changes_requested') return null;
  return msg('dashboard:proposal.errors.notEditable', { number: proposal.number, status: proposal.status });
}

export async function updateProposal(db: Db, id: string, input: ProposalInput, actor: Actor, currency = 'USD'): Promise<ProposalRow> {
  const before = await getProposal(db, id, { forUpdate: true });
  const locked = proposalLocked(before);
  if (locked) throw conflict(locked);
  // A sent proposal is the customer's: moved to someone else it would sit in their portal unsent, and vanish from the first one's.
  if (before.status !== 'draft' && input.lead_id !== before.lead_id) throw fieldError('lead_id', 'dashboard:proposal.errors.customerFixed');
  const lead = await leadFor(db, input.lead_id);
  const property = await chosenProperty(db, lead.id, input.property_id);
  const { items, totals } = computeFormLineItems(input.items, input.tax_rate);
  const deposit = depositColumns(input, totals.total_cents, currency);
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    .update({
      lead_id: lead.id,
      property_id: property?.id ?? null,
      title: input.title,
      tax_rate_bps: input.tax_rate,
      ...totals,
      valid_until: input.valid_until ?? null,
      customer_message: input.customer_message,
      internal_notes: input.internal_notes,
      ...deposit,
      updated_at: db.fn.now(),
    })
    .returning<ProposalRow[]>('*');
  await writeItems(db, proposal.id, items);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'proposal.updated',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { total_cents: totals.total_cents, previous_total_cents: before.total_cents },
  });
  return proposal;
}

/** Draft → pending: the proposal is out with the customer. */
export async function markProposalSent(db: Db, id: string, actor: Actor): Promise<{ proposal: ProposalRow; alreadySent: boolean }> {
  const before = await getProposal(db, id, { forUpdate: true });
  if (before.status === 'pending') return { proposal: before, alreadySent: true };
  if (before.status !== 'draft') throw conflict(msg('dashboard:proposal.errors.already', { number: before.number, status: before.status }));
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    .update({ status: 'pending', sent_at: db.fn.now(), updated_at: db.fn.now() })
    .returning<ProposalRow[]>('*');
  await advanceLeadStage(db, proposal.lead_id, 'proposal_sent', actor);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'proposal.sent',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number: proposal.number },
  });
  return { proposal, alreadySent: false };
}

/**
 * Pending → approved, under a row lock, if the content is what the approver saw.
 * A double submit waits for the first and then finds the proposal approved
 * (`alreadyDecided`). Part of approveProposal (jobs/), which also makes the job.
 */
export async function markProposalApproved(
  db: Db,
  proposalId: string,
  approval: ProposalApproval,
  actor: Actor,
): Promise<{ proposal: ProposalRow; alreadyDecided: boolean; approverName: string; chosenItemIds?: string[] | null }> {
  const before = await getProposal(db, proposalId, { forUpdate: true });
  if (before.status === 'approved') return { proposal: before, alreadyDecided: true, approverName: before.approved_by_name ?? '' };
  if (before.status === 'rejected') {
    throw conflict(msg('dashboard:proposal.errors.rejectedNoApprove', { number: before.number }));
  }
  if (before.status === 'draft') {
    throw conflict(msg('dashboard:proposal.errors.draftNoApprove', { number: before.number }));
  }
  const approverName = approval.approverName.trim().slice(0, 200);
  if (!approverName) throw fieldError('approver_name', 'dashboard:proposal.errors.approverRequired');
  const items = await getProposalItems(db, before.id);
  // Compared under the row lock: an edit can't slip in between this check and the approval.
  const contentSha256 = proposalContentSha256(before, items);
  if (approval.expectedContentSha256 != null && approval.expectedContentSha256 !== contentSha256) {
    throw proposalChanged(before.number);
  }
  const chosen = await recordChoice(db, before, items, approval);
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    .update({
      status: 'approved',
      approved_at: db.fn.now(),
      approval_source: approval.source,
      approved_by_name: approverName,
      approved_by_user_id: actor.type === 'user' ? actor.userId : null,
      approved_ip: approval.ip ?? null,
      approved_user_agent: approval.userAgent?.slice(0, 500) ?? null,
      approved_content_sha256: contentSha256,
      ...chosen.totals,
      updated_at: db.fn.now(),
    })
    .returning<ProposalRow[]>('*');
  return { proposal, alreadyDecided: false, approverName, chosenItemIds: chosen.itemIds };
}

/**
 * What an approval takes of a proposal with optional lines or alternatives: the
 * choice is checked (line-options.ts), stored as the lines' `selected`, and its
 * totals, computed here and never taken from the form, become the proposal's.
 * A proposal without choices keeps its totals and lines as they are.
 */
async function recordChoice(
  db: Db,
  proposal: ProposalRow,
  items: ProposalItemRow[],
  approval: ProposalApproval,
): Promise<{ totals: Totals; itemIds: string[] | null }> {
  const stored = { subtotal_cents: proposal.subtotal_cents, tax_cents: proposal.tax_cents, total_cents: proposal.total_cents };
  if (!hasChoices(items)) return { totals: stored, itemIds: null };
  const chosen = approval.choice ? resolveChoice(items, approval.choice) : selectedIds(items);
  const totals = choiceTotals(items, chosen, proposal.tax_rate_bps);
  if (approval.expectedTotalCents !== undefined && approval.expectedTotalCents !== totals.total_cents) {
    throw fieldError('choices', 'dashboard:proposal.errors.choiceTotal');
  }
  const itemIds = items.filter((i) => chosen.has(i.id)).map((i) => i.id);
  await db('proposal_items').where({ proposal_id: proposal.id }).whereIn('id', itemIds).update({ selected: true });
  await db('proposal_items').where({ proposal_id: proposal.id }).whereNotIn('id', itemIds).update({ selected: false });
  return { totals, itemIds };
}

export async function rejectProposal(
  db: Db,
  proposalId: string,
  input: { reason?: string | null },
  actor: Actor,
): Promise<{ proposal: ProposalRow; alreadyDecided: boolean }> {
  const before = await getProposal(db, proposalId, { forUpdate: true });
  if (before.status === 'rejected') return { proposal: before, alreadyDecided: true };
  if (before.status === 'approved') {
    throw conflict(msg('dashboard:proposal.errors.approvedNoReject', { number: before.number }));
  }
  if (before.status === 'draft') {
    throw conflict(msg('dashboard:proposal.errors.draftNoReject', { number: before.number }));
  }
  const reason = input.reason?.trim().slice(0, 2000) || null;
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    .update({ status: 'rejected', rejected_at: db.fn.now(), rejection_reason: reason, updated_at: db.fn.now() })
    .returning<ProposalRow[]>('*');
  // Lost only when nothing else is still open or won for this customer.
  const other = await db('proposals')
    .where({ lead_id: proposal.lead_id })
    .whereIn('status', ['pending', 'approved'])
    .first<{ id: string } | undefined>('id');
  if (!other) await advanceLeadStage(db, proposal.lead_id, 'lost', actor);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'proposal.rejected',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number: proposal.number, reason },
  });
  return { proposal, alreadyDecided: false };
}
