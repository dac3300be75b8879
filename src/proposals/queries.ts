// Proposals: reading them, and the hash of what a customer agrees to.
import crypto from 'node:crypto';
import type { ProposalItemRow, ProposalRow, ProposalStatus } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { notFound } from '../lib/errors.js';
import { idOrNotFound } from '../lib/ids.js';
import { customerRecordList } from '../leads/queries.js';

export type { ProposalItemRow, ProposalRow };

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
  const query = customerRecordList(
    db,
    'proposals',
    'p',
    [
      { column: 'p.created_at', order: 'desc' },
      { column: 'p.id', order: 'asc' },
    ],
    filter,
  );
  if (filter.status) query.where('p.status', filter.status);
  return query;
}

/**
 * SHA-256 of what the customer agreed to: the numbers, the wording and every
 * line, in a fixed order. Stored at approval so a later edit is detectable.
 */
export function proposalContentSha256(
  proposal: Pick<ProposalRow, 'number' | 'title' | 'tax_rate_bps' | 'customer_message' | 'valid_until'> &
    Record<'subtotal_cents' | 'tax_cents' | 'total_cents', number | string> &
    Partial<Pick<ProposalRow, 'deposit_kind' | 'deposit_value'>>,
  // Rows from knex (quantity as '1.50') or from the portal's JSON (1.5): both hash the same.
  items: (Pick<ProposalItemRow, 'position' | 'service' | 'description'> &
    Record<'quantity' | 'unit_price_cents' | 'amount_cents', number | string>)[],
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
    // The deposit asked is part of what is agreed (absent when none, so older hashes stay the same).
    ...(proposal.deposit_kind ? { deposit: [proposal.deposit_kind, Number(proposal.deposit_value)] } : {}),
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
