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
  if (!proposal) throw notFound('dashboard:proposal.errors.notFound');
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

type ContentProposal = Pick<ProposalRow, 'number' | 'title' | 'tax_rate_bps' | 'customer_message' | 'valid_until'> &
  Record<'subtotal_cents' | 'tax_cents' | 'total_cents', number | string> &
  Partial<Pick<ProposalRow, 'deposit_kind' | 'deposit_value'>>;
// Rows from knex (quantity as '1.50') or from the portal's JSON (1.5): both hash the same.
type ContentItem = Pick<ProposalItemRow, 'position' | 'service' | 'description'> &
  Partial<Pick<ProposalItemRow, 'optional' | 'group_label' | 'selected'>> &
  Record<'quantity' | 'unit_price_cents' | 'amount_cents', number | string>;

/** What the customer agrees to, as parsed back from a stored snapshot's JSON. */
export interface ProposalContent {
  number: number;
  title: string;
  tax_rate_bps: number;
  subtotal_cents: number;
  tax_cents: number;
  total_cents: number;
  customer_message: string;
  valid_until: string | null;
  /** The deposit asked ([kind, value]); absent when none. */
  deposit?: [string, number];
  items: {
    position: number;
    service: string;
    description: string;
    quantity: string;
    unit_price_cents: number;
    amount_cents: number;
    /** Present only on an optional line or an alternative. */
    optional?: boolean;
    group_label?: string | null;
    selected?: boolean;
  }[];
}

/**
 * SHA-256 of what the customer agreed to: the numbers, the wording and every
 * line, in a fixed order. Stored at approval so a later edit is detectable.
 */
export function proposalContentSha256(proposal: ContentProposal, items: ContentItem[]): string {
  return sha256Hex(proposalContentJson(proposal, items));
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** The exact text that is hashed: stored with a signature or a superseded version, so the hash can be checked. */
export function proposalContentJson(proposal: ContentProposal, items: ContentItem[]): string {
  const content: ProposalContent = {
    number: proposal.number,
    title: proposal.title,
    tax_rate_bps: proposal.tax_rate_bps,
    subtotal_cents: Number(proposal.subtotal_cents),
    tax_cents: Number(proposal.tax_cents),
    total_cents: Number(proposal.total_cents),
    customer_message: proposal.customer_message,
    valid_until: proposal.valid_until ?? null,
    // The deposit asked is part of what is agreed (absent when none, so older hashes stay the same).
    ...(proposal.deposit_kind ? { deposit: [proposal.deposit_kind, Number(proposal.deposit_value)] as [string, number] } : {}),
    items: [...items]
      .sort((a, b) => a.position - b.position)
      .map((i) => ({
        position: i.position,
        service: i.service,
        description: i.description,
        quantity: Number(i.quantity).toFixed(2),
        unit_price_cents: Number(i.unit_price_cents),
        amount_cents: Number(i.amount_cents),
        // How an optional line or alternative counts is part of the offer; ordinary lines hash as before.
        ...(i.optional || i.group_label ? { optional: !!i.optional, group_label: i.group_label ?? null, selected: !!i.selected } : {}),
      })),
  };
  return JSON.stringify(content);
}
