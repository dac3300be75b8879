// Deposit payments SQL: a Stripe deposit is recorded once per PaymentIntent (the
// same partial unique index as every Stripe payment), with or without an invoice.
import type { Db } from '../tenancy.js';

export interface StripeDepositInsert {
  lead_id: string;
  proposal_id: string;
  /** The proposal's invoice when it already exists and can take the deposit; else null (credited later). */
  invoice_id: string | null;
  amount_cents: number;
  currency: string;
  /** Unix seconds: when the PaymentIntent was created. */
  created: number;
  payment_intent: string;
  checkout_session: string | null;
  charge: string | null;
}

/** Inserts the deposit unless its PaymentIntent is already recorded; returns the new row's id, or null. */
export async function insertStripeDeposit(db: Db, orgId: string, row: StripeDepositInsert): Promise<string | null> {
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `insert into payments (org_id, lead_id, proposal_id, invoice_id, kind, amount_cents, currency, method, source, status, paid_at,
                           stripe_payment_intent_id, stripe_checkout_session_id, stripe_charge_id)
     values (?, ?, ?, ?, 'payment', ?, ?, 'stripe', 'stripe', 'succeeded', to_timestamp(?), ?, ?, ?)
     on conflict (stripe_payment_intent_id, split_index) where kind = 'payment' and stripe_payment_intent_id is not null do nothing
     returning id`,
    [
      orgId,
      row.lead_id,
      row.proposal_id,
      row.invoice_id,
      row.amount_cents,
      row.currency,
      row.created,
      row.payment_intent,
      row.checkout_session,
      row.charge,
    ],
  );
  return rows[0]?.id ?? null;
}

/**
 * A proposal's deposit payments: everything paid (refunded ones included), what no invoice holds yet, and what
 * was refunded of them (refunds follow their payment by refund_of, on the proposal or on the invoice credited).
 */
export async function depositSums(db: Db, proposalId: string): Promise<{ paid: number; waiting: number; refunded: number }> {
  const row = await db('payments')
    .where({ proposal_id: proposalId, kind: 'payment' })
    .whereIn('status', ['succeeded', 'refunded'])
    .first<{ paid: string; waiting: string }>(
      db.raw('coalesce(sum(amount_cents), 0)::bigint as paid'),
      db.raw('coalesce(sum(amount_cents) filter (where invoice_id is null), 0)::bigint as waiting'),
    );
  const refunds = await db('payments')
    .where({ kind: 'refund', status: 'succeeded' })
    .whereIn('refund_of', db('payments').select('id').where({ proposal_id: proposalId, kind: 'payment' }))
    .first<{ refunded: string }>(db.raw('coalesce(sum(amount_cents), 0)::bigint as refunded'));
  return { paid: Number(row.paid), waiting: Number(row.waiting), refunded: Number(refunds.refunded) };
}
