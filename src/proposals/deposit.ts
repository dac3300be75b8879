// A deposit asked on approval (issue 13): none, a percentage of the total, or a
// fixed amount. What the customer owes is fixed at approval from the approved
// row's total, so a total that changes before approval (options, edits) is
// always the one the deposit is computed from; the client never sends it.
import { z } from 'zod';
import type { ProposalRow } from '../db/rows.js';
import { depositSums } from '../db/sql/deposits.js';
import type { Db } from '../db/tenancy.js';
import { fieldError } from '../lib/errors.js';
import { msg } from '../i18n/index.js';
import { formatMoney, moneyInputValue, parseMoneyInput } from '../lib/money.js';

export const DEPOSIT_KINDS = ['none', 'percent', 'amount'] as const;

/** The deposit fields of the proposal form (raw text; checked against the total by depositColumns). */
export const depositFormFields = {
  deposit_kind: z.enum(DEPOSIT_KINDS, 'dashboard:proposal.errors.depositKind').optional(),
  deposit_percent: z.string().trim().max(16, 'dashboard:proposal.errors.depositPercentFormat').optional(),
  deposit_amount: z.string().trim().max(32, 'dashboard:proposal.errors.depositAmountFormat').optional(),
};

interface DepositInput {
  deposit_kind?: (typeof DEPOSIT_KINDS)[number];
  deposit_percent?: string;
  deposit_amount?: string;
}

export interface DepositColumns {
  deposit_kind: 'percent' | 'amount' | null;
  deposit_value: number | null;
}

/** Basis points from "25" or "12.5" (percent), or null when it isn't one. */
function percentToBps(text: string): number | null {
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(text)) return null;
  return Math.round(Number(text) * 100);
}

/**
 * The stored deposit settings for a proposal whose total is `totalCents`:
 * a percentage must be above 0 and at most 100; an amount above 0 and at most
 * the total. Anything else is a field error (422, nothing written).
 */
export function depositColumns(input: DepositInput, totalCents: number, currency: string, locale?: string): DepositColumns {
  if (!input.deposit_kind || input.deposit_kind === 'none') return { deposit_kind: null, deposit_value: null };
  if (input.deposit_kind === 'percent') {
    const bps = percentToBps((input.deposit_percent ?? '').replace(/%$/, '').trim());
    if (bps === null || bps <= 0 || bps > 10_000) throw fieldError('deposit_percent', 'dashboard:proposal.errors.depositPercent');
    return { deposit_kind: 'percent', deposit_value: bps };
  }
  const text = input.deposit_amount ?? '';
  const cents = /^-/.test(text) ? null : parseMoneyInput(text, currency);
  if (cents === null || cents <= 0) throw fieldError('deposit_amount', 'dashboard:proposal.errors.depositAmount');
  if (cents > totalCents) {
    throw fieldError(
      'deposit_amount',
      msg('dashboard:proposal.errors.depositTooMuch', { total: formatMoney(totalCents, currency, locale) }),
    );
  }
  return { deposit_kind: 'amount', deposit_value: cents };
}

/** Form values for editing a proposal's deposit. */
export function depositFormValues(proposal: Pick<ProposalRow, 'deposit_kind' | 'deposit_value'>, currency: string): Required<DepositInput> {
  const value = proposal.deposit_value === null ? null : Number(proposal.deposit_value);
  return {
    deposit_kind: proposal.deposit_kind ?? 'none',
    deposit_percent: proposal.deposit_kind === 'percent' && value !== null ? String(value / 100) : '',
    deposit_amount: proposal.deposit_kind === 'amount' && value !== null ? moneyInputValue(value, currency) : '',
  };
}

/** The deposit owed on a total: a percentage rounds half up to the minor unit; never more than the total. */
export function depositDueCents(proposal: Pick<ProposalRow, 'deposit_kind' | 'deposit_value' | 'total_cents'>): number | null {
  if (!proposal.deposit_kind || proposal.deposit_value === null) return null;
  const total = Number(proposal.total_cents);
  const value = Number(proposal.deposit_value);
  const due = proposal.deposit_kind === 'percent' ? Math.round((total * value) / 10_000) : value;
  const capped = Math.min(due, total);
  return capped > 0 ? capped : null;
}

/** A percentage deposit as shown ("25%", from its basis points); null for a fixed amount or none. */
export function depositPercent(proposal: Pick<ProposalRow, 'deposit_kind' | 'deposit_value'>): string | null {
  return proposal.deposit_kind === 'percent' && proposal.deposit_value !== null ? `${Number(proposal.deposit_value) / 100}%` : null;
}

/** The deposit a proposal not yet approved will ask for: "25%" of the total (or none), and the amount at its current total; null when it asks none. */
export function depositAsked(
  proposal: Pick<ProposalRow, 'deposit_kind' | 'deposit_value' | 'total_cents'>,
): { percent: string | null; cents: number } | null {
  const cents = depositDueCents(proposal);
  return cents === null ? null : { percent: depositPercent(proposal), cents };
}

/**
 * At approval (inside approveProposal's transaction, on the row just approved):
 * fixes the deposit owed from the approved total. Returns the row as stored.
 */
export async function fixDepositOnApproval(db: Db, proposal: ProposalRow): Promise<ProposalRow> {
  const due = depositDueCents(proposal);
  if (due === null) return proposal;
  const [row] = await db('proposals')
    .where({ id: proposal.id })
    .update({ deposit_cents: due, updated_at: db.fn.now() })
    .returning<ProposalRow[]>('*');
  return row;
}

export interface DepositState {
  due_cents: number;
  paid_cents: number;
  outstanding_cents: number;
  /** Paid but no invoice holds it yet (credited when one is made from the proposal or its job). */
  waiting_cents: number;
  /** Refunded of what was paid (still counted as paid: the deposit is not asked again), and what is left of it. */
  refunded_cents: number;
  kept_cents: number;
}

interface ProposalDepositFields {
  id: string;
  status: string;
  deposit_cents: number | string | null;
}

/** Null when the proposal asks no deposit or isn't approved. */
export async function depositState(db: Db, proposal: ProposalDepositFields): Promise<DepositState | null> {
  if (proposal.status !== 'approved' || proposal.deposit_cents === null) return null;
  const due = Number(proposal.deposit_cents);
  const { paid, waiting, refunded } = await depositSums(db, proposal.id);
  const refundedCents = Math.min(refunded, paid);
  return {
    due_cents: due,
    paid_cents: paid,
    outstanding_cents: Math.max(due - paid, 0),
    waiting_cents: waiting,
    refunded_cents: refundedCents,
    kept_cents: paid - refundedCents,
  };
}
