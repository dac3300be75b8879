// Payments SQL that the query builder can't say: inserts that are idempotent on a
// partial unique index (a PaymentIntent or refund is recorded once), set-based
// updates, and sums.
import type { Db } from '../tenancy.js';

/** A Stripe payment to insert: one PaymentIntent on one invoice. */
export interface StripePaymentInsert {
  lead_id: string;
  invoice_id: string;
  amount_cents: number;
  currency: string;
  /** Unix seconds: when the PaymentIntent was created. */
  created: number;
  payment_intent: string;
  checkout_session: string | null;
  charge: string | null;
  /** The part of a PaymentIntent split across several invoices (0 for a whole payment). */
  split_index?: number;
  /** A tip paid with it (recorded here, never applied to the invoice). */
  tip_cents?: number;
}

export interface InsertedStripePayment {
  id: string;
  invoice_id: string;
  stripe_payment_intent_id: string;
  amount_cents: number;
  stripe_checkout_session_id: string | null;
  stripe_charge_id: string | null;
  tip_cents: number;
}

/** Inserts the payments whose PaymentIntent has none yet; returns the rows actually inserted. */
export async function insertStripePayments(db: Db, orgId: string, rows: StripePaymentInsert[]): Promise<InsertedStripePayment[]> {
  if (rows.length === 0) return [];
  const { rows: inserted } = await db.raw<{ rows: InsertedStripePayment[] }>(
    `insert into payments (org_id, lead_id, invoice_id, kind, amount_cents, currency, method, source, status, paid_at,
                           stripe_payment_intent_id, stripe_checkout_session_id, stripe_charge_id, split_index, tip_cents)
     select ?::uuid, x.lead_id, x.invoice_id, 'payment', x.amount_cents, x.currency, 'stripe', 'stripe', 'succeeded', to_timestamp(x.created),
            x.payment_intent, x.checkout_session, x.charge, coalesce(x.split_index, 0), coalesce(x.tip_cents, 0)
       from jsonb_to_recordset(?::jsonb) as x(lead_id uuid, invoice_id uuid, amount_cents bigint, currency text, created bigint,
                                              payment_intent text, checkout_session text, charge text, split_index smallint,
                                              tip_cents bigint)
     on conflict (stripe_payment_intent_id, split_index) where kind = 'payment' and stripe_payment_intent_id is not null do nothing
     returning id, invoice_id, stripe_payment_intent_id, amount_cents, stripe_checkout_session_id, stripe_charge_id, tip_cents`,
    [orgId, JSON.stringify(rows)],
  );
  return inserted.map((r) => ({ ...r, amount_cents: Number(r.amount_cents), tip_cents: Number(r.tip_cents) }));
}

/** Marks the Checkout Sessions that these PaymentIntents paid ('paid' is final). */
export async function markCheckoutSessionsPaid(db: Db, paid: { payment_intent: string; checkout_session: string | null }[]): Promise<void> {
  if (paid.length === 0) return;
  await db.raw(
    `update checkout_sessions c set status = 'paid', stripe_payment_intent_id = x.payment_intent, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as x(payment_intent text, checkout_session text)
      where c.status <> 'paid'
        and (c.stripe_checkout_session_id = x.checkout_session or (x.checkout_session is null and c.stripe_payment_intent_id = x.payment_intent))`,
    [JSON.stringify(paid)],
  );
}

export interface UnappliedInsert {
  payment_intent: string;
  checkout_session: string | null;
  charge: string | null;
  invoice_id: string;
  invoice_number: number;
  amount_cents: number;
  currency: string;
  reason: string;
  /** Unix seconds. */
  created: number;
}

/** Records money the invoice could not take, once per PaymentIntent; returns whether it is new. */
export async function insertUnappliedPayment(db: Db, row: UnappliedInsert): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `insert into stripe_unapplied_payments (org_id, stripe_payment_intent_id, stripe_checkout_session_id, stripe_charge_id,
                                            invoice_id, invoice_number, amount_cents, currency, reason, paid_at)
     values (nullif(current_setting('app.org_id', true), '')::uuid, ?, ?, ?, ?, ?, ?, ?, ?, to_timestamp(?))
     on conflict (org_id, stripe_payment_intent_id) do nothing
     returning id`,
    [
      row.payment_intent,
      row.checkout_session,
      row.charge,
      row.invoice_id,
      row.invoice_number,
      row.amount_cents,
      row.currency,
      row.reason,
      row.created,
    ],
  );
  return rows.length > 0;
}

export interface StripeRefundInsert {
  lead_id: string;
  /** The refunded payment's invoice; null for a deposit still waiting on its proposal. */
  invoice_id: string | null;
  /** The proposal of a deposit not yet on an invoice (null otherwise). */
  proposal_id: string | null;
  refund_of: string;
  amount_cents: number;
  currency: string;
  created: number;
  payment_intent: string;
  charge: string | null;
  refund: string;
}

/** Inserts a Stripe refund row once per refund id; returns its id, or null when it existed. */
export async function insertStripeRefund(db: Db, orgId: string, row: StripeRefundInsert): Promise<string | null> {
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `insert into payments (org_id, lead_id, invoice_id, proposal_id, kind, refund_of, amount_cents, currency, method, source, status,
                           paid_at, stripe_payment_intent_id, stripe_charge_id, stripe_refund_id)
     values (?, ?, ?, ?, 'refund', ?, ?, ?, 'stripe', 'stripe', 'succeeded', to_timestamp(?), ?, ?, ?)
     on conflict (stripe_refund_id) where stripe_refund_id is not null do nothing
     returning id`,
    [
      orgId,
      row.lead_id,
      row.invoice_id,
      row.proposal_id,
      row.refund_of,
      row.amount_cents,
      row.currency,
      row.created,
      row.payment_intent,
      row.charge,
      row.refund,
    ],
  );
  return rows[0]?.id ?? null;
}

/** How much of each payment has been refunded, counting refunds in these statuses (payments with none are left out). */
export async function refundedTotals(db: Db, paymentIds: readonly string[], statuses: readonly string[]): Promise<Map<string, number>> {
  const rows = await db('payments')
    .whereIn('refund_of', paymentIds)
    .where({ kind: 'refund' })
    .whereIn('status', statuses)
    .groupBy('refund_of')
    .select('refund_of')
    .sum<{ refund_of: string; total: string }[]>({ total: 'amount_cents' });
  return new Map(rows.map((r) => [r.refund_of, Number(r.total)]));
}

/** How much of a payment has been refunded, counting refunds in these statuses. */
export async function refundedTotal(db: Db, paymentId: string, statuses: readonly string[]): Promise<number> {
  return (await refundedTotals(db, [paymentId], statuses)).get(paymentId) ?? 0;
}

/** Whether the refund-mismatch warning for this refund was already recorded. */
export async function refundMismatchAudited(db: Db, paymentId: string, refundId: string): Promise<boolean> {
  const told = await db('audit_events')
    .where({ action: 'payment.stripe_unapplied', subject_type: 'payment', subject_id: paymentId })
    .whereRaw("data->>'refund' = ?", [refundId])
    .first<{ id: number } | undefined>('id');
  return !!told;
}

export interface UnappliedRow {
  id: string;
  stripe_payment_intent_id: string;
  invoice_id: string | null;
  invoice_number: number | null;
  amount_cents: number;
  currency: string;
  reason: string;
  paid_at: Date;
}

/** Money at Stripe that no invoice holds, newest first; hidden again once it was applied after all. */
export async function listUnappliedPayments(db: Db, limit: number): Promise<UnappliedRow[]> {
  return db('stripe_unapplied_payments as u') // i18n-exempt: SQL
    .whereNotExists(
      db('payments as p').select(db.raw('1')).whereRaw("p.stripe_payment_intent_id = u.stripe_payment_intent_id and p.kind = 'payment'"),
    )
    .orderBy([{ column: 'u.paid_at', order: 'desc' }, { column: 'u.id' }])
    .limit(limit)
    .select<UnappliedRow[]>(
      'u.id',
      'u.stripe_payment_intent_id',
      'u.invoice_id',
      'u.invoice_number',
      'u.amount_cents',
      'u.currency',
      'u.reason',
      'u.paid_at',
    );
}

/**
 * A select column for a payment aliased `y`: its place (1, 2, …) among the payments and
 * refunds of the same invoice (or, for a deposit before any invoice, the same proposal) in
 * the order they were made, as `sequence`. A receipt's number is its invoice's and this.
 */
export function paymentSequenceColumn(db: Db) {
  return db.raw(
    `(select count(*) from payments p2
       where p2.org_id = y.org_id
         and (case when y.invoice_id is not null then p2.invoice_id = y.invoice_id
                   else p2.invoice_id is null and p2.proposal_id = y.proposal_id end)
         and (p2.paid_at, p2.id) <= (y.paid_at, y.id))::int as sequence`,
  );
}
