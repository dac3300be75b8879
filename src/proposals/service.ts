// Proposals: numbered quotes with line items; approval creates exactly one job.
import crypto from 'node:crypto';
import type { Db } from '../db/tenancy.js';
import { recordAudit, type Actor } from '../audit.js';
import { conflict, fieldError, HttpError, notFound } from '../http/errors.js';
import { currentOrgId, idOrNotFound } from '../leads/common.js';
import { advanceLeadStage, getLead } from '../leads/service.js';
import { allocateNumber } from '../invoices/numbering.js';
import { createJobForProposal } from '../jobs/service.js';
import { computeLineItems, lineItemRows, type ComputedLineItem } from './line-items.js';
import type { ProposalInput, ProposalStatus } from './schema.js';

export interface ProposalRow {
  id: string;
  org_id: string;
  lead_id: string;
  number: number;
  title: string;
  status: ProposalStatus;
  tax_rate_bps: number;
  subtotal_cents: number;
  tax_cents: number;
  total_cents: number;
  customer_message: string;
  internal_notes: string;
  valid_until: string | null;
  sent_at: Date | null;
  approved_at: Date | null;
  approval_source: 'portal' | 'staff' | null;
  approved_by_name: string | null;
  approved_by_user_id: string | null;
  approved_ip: string | null;
  approved_user_agent: string | null;
  approved_content_sha256: string | null;
  rejected_at: Date | null;
  rejection_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ProposalItemRow {
  id: string;
  proposal_id: string;
  position: number;
  service: string;
  description: string;
  quantity: string;
  unit_price_cents: number;
  amount_cents: number;
}

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
}

/** The id of the 409 approveProposal() throws when the proposal changed after it was shown. */
export const PROPOSAL_CHANGED = 'proposal_changed';

export const proposalChanged = (number: number) =>
  new HttpError(409, PROPOSAL_CHANGED, `Proposal #${number} was changed after you opened it. Please review it again before approving.`);

export async function getProposal(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<ProposalRow> {
  const query = db('proposals').where({ id: idOrNotFound(id) });
  if (options.forUpdate) query.forUpdate();
  const proposal = await query.first<ProposalRow | undefined>();
  if (!proposal) throw notFound('That proposal does not exist');
  return proposal;
}

export async function getProposalItems(db: Db, proposalId: string): Promise<ProposalItemRow[]> {
  return db('proposal_items').where({ proposal_id: proposalId }).orderBy('position');
}

export interface ProposalListRow extends ProposalRow {
  lead_first_name: string;
  lead_last_name: string;
}

export async function listProposals(
  db: Db,
  filter: { leadId?: string; status?: ProposalStatus; limit?: number; offset?: number } = {},
): Promise<ProposalListRow[]> {
  const query = db('proposals as p')
    .join('leads as l', 'l.id', 'p.lead_id')
    .select('p.*', 'l.first_name as lead_first_name', 'l.last_name as lead_last_name')
    .orderBy([{ column: 'p.created_at', order: 'desc' }, { column: 'p.id', order: 'asc' }])
    .limit(filter.limit ?? 50)
    .offset(filter.offset ?? 0);
  if (filter.leadId) query.where('p.lead_id', filter.leadId);
  if (filter.status) query.where('p.status', filter.status);
  return query;
}

/**
 * SHA-256 of what the customer agreed to: the numbers, the wording and every
 * line, in a fixed order. Stored at approval so a later edit is detectable.
 */
export function proposalContentSha256(
  proposal: Pick<ProposalRow, 'number' | 'title' | 'tax_rate_bps' | 'customer_message' | 'valid_until'> &
    Record<'subtotal_cents' | 'tax_cents' | 'total_cents', number | string>,
  // Rows from knex (quantity as '1.50') or from the portal's JSON (1.5): both hash the same.
  items: (Pick<ProposalItemRow, 'position' | 'service' | 'description'> & Record<'quantity' | 'unit_price_cents' | 'amount_cents', number | string>)[],
): string {
  const content = {
    number: proposal.number,
    title: proposal.title,
    tax_rate_bps: proposal.tax_rate_bps,
    subtotal_cents: Number(proposal.subtotal_cents),
    tax_cents: Number(proposal.tax_cents),
    total_cents: Number(proposal.total_cents),
    customer_message: proposal.customer_message,
    valid_until: proposal.valid_until ?? null,
    items: [...items]
      .sort((a, b) => a.position - b.position)
      .map((i) => ({
        position: i.position,
        service: i.service,
        description: i.description,
        quantity: Number(i.quantity).toFixed(2),
        unit_price_cents: Number(i.unit_price_cents),
        amount_cents: Number(i.amount_cents),
      })),
  };
  return crypto.createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

function computeOrRefuse(input: ProposalInput) {
  try {
    return computeLineItems(input.items, input.tax_rate);
  } catch {
    throw fieldError('items', 'The total is too large; check the quantities and prices');
  }
}

async function writeItems(db: Db, proposalId: string, items: ComputedLineItem[]): Promise<void> {
  await db('proposal_items').where({ proposal_id: proposalId }).delete();
  await db('proposal_items').insert(lineItemRows(currentOrgId(db), 'proposal_id', proposalId, items));
}

export async function createProposal(db: Db, input: ProposalInput, actor: Actor): Promise<ProposalRow> {
  const lead = await getLead(db, input.lead_id).catch(() => {
    throw fieldError('lead_id', 'Choose a customer');
  });
  const { items, totals } = computeOrRefuse(input);
  const number = await allocateNumber(db, 'proposal');
  const [proposal] = await db('proposals')
    .insert({
      org_id: currentOrgId(db),
      lead_id: lead.id,
      number,
      title: input.title,
      tax_rate_bps: input.tax_rate,
      ...totals,
      valid_until: input.valid_until ?? null,
      customer_message: input.customer_message,
      internal_notes: input.internal_notes,
      created_by: actor.type === 'user' ? actor.userId : null,
    })
    .returning<ProposalRow[]>('*');
  await writeItems(db, proposal.id, items);
  await recordAudit(db, {
    actor,
    action: 'proposal.created',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number, lead_id: lead.id, total_cents: totals.total_cents },
  });
  return proposal;
}

export async function updateProposal(db: Db, id: string, input: ProposalInput, actor: Actor): Promise<ProposalRow> {
  const before = await getProposal(db, id, { forUpdate: true });
  if (before.status !== 'draft' && before.status !== 'pending') {
    throw conflict(`Proposal #${before.number} is ${before.status} and can no longer be edited.`);
  }
  const lead = await getLead(db, input.lead_id).catch(() => {
    throw fieldError('lead_id', 'Choose a customer');
  });
  const { items, totals } = computeOrRefuse(input);
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    .update({
      lead_id: lead.id,
      title: input.title,
      tax_rate_bps: input.tax_rate,
      ...totals,
      valid_until: input.valid_until ?? null,
      customer_message: input.customer_message,
      internal_notes: input.internal_notes,
      updated_at: db.fn.now(),
    })
    .returning<ProposalRow[]>('*');
  await writeItems(db, proposal.id, items);
  await recordAudit(db, {
    actor,
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
  if (before.status !== 'draft') throw conflict(`Proposal #${before.number} is already ${before.status}.`);
  const [proposal] = await db('proposals')
    .where({ id: before.id })
    .update({ status: 'pending', sent_at: db.fn.now(), updated_at: db.fn.now() })
    .returning<ProposalRow[]>('*');
  await advanceLeadStage(db, proposal.lead_id, 'proposal_sent', actor);
  await recordAudit(db, { actor, action: 'proposal.sent', subjectType: 'proposal', subjectId: proposal.id, data: { number: proposal.number } });
  return { proposal, alreadySent: false };
}

/**
 * Approves a pending proposal and creates its job, once. The row lock makes a
 * double submit wait for the first; it then finds the proposal approved and
 * returns the same job (jobs are also unique per proposal in the schema).
 */
export async function approveProposal(
  db: Db,
  proposalId: string,
  approval: ProposalApproval,
  actor: Actor,
): Promise<{ proposal: ProposalRow; jobId: string; alreadyDecided: boolean }> {
  const before = await getProposal(db, proposalId, { forUpdate: true });
  if (before.status === 'approved') {
    const job = await createJobForProposal(db, before, actor);
    return { proposal: before, jobId: job.id, alreadyDecided: true };
  }
  if (before.status === 'rejected') {
    throw conflict(`Proposal #${before.number} was rejected, so it cannot be approved. Create a new proposal instead.`);
  }
  if (before.status === 'draft') {
    throw conflict(`Proposal #${before.number} is still a draft. Mark it as sent before recording an approval.`);
  }
  const approverName = approval.approverName.trim().slice(0, 200);
  if (!approverName) throw fieldError('approver_name', 'Enter the name of the person who approved');
  const items = await getProposalItems(db, before.id);
  // Compared under the row lock: an edit can't slip in between this check and the approval.
  const contentSha256 = proposalContentSha256(before, items);
  if (approval.expectedContentSha256 != null && approval.expectedContentSha256 !== contentSha256) {
    throw proposalChanged(before.number);
  }
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
      updated_at: db.fn.now(),
    })
    .returning<ProposalRow[]>('*');
  const job = await createJobForProposal(db, proposal, actor);
  await advanceLeadStage(db, proposal.lead_id, 'won', actor);
  await recordAudit(db, {
    actor,
    action: 'proposal.approved',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number: proposal.number, source: approval.source, approver_name: approverName, job_id: job.id },
  });
  return { proposal, jobId: job.id, alreadyDecided: false };
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
    throw conflict(`Proposal #${before.number} was already approved, so it cannot be rejected.`);
  }
  if (before.status === 'draft') {
    throw conflict(`Proposal #${before.number} is still a draft. Mark it as sent before recording a rejection.`);
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
    .first('id');
  if (!other) await advanceLeadStage(db, proposal.lead_id, 'lost', actor);
  await recordAudit(db, {
    actor,
    action: 'proposal.rejected',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: { number: proposal.number, reason },
  });
  return { proposal, alreadyDecided: false };
}
