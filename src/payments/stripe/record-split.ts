// Recording one Stripe payment that pays several invoices (a Checkout Session
// made from the portal's invoice list). The split was fixed when the session was
// made (checkout_session_invoices, in position order); here, in the caller's one
// transaction, every invoice of the split is locked in id order and either ALL
// parts are recorded (one payments row per invoice, split_index = position) or
// none is and the whole payment is kept as unapplied for the contractor to
// refund — a half-applied split can't exist. Webhooks and reconciliation both
// come here, in any order, and converge on the same rows (unique by PaymentIntent
// and split_index).
import { recordAudit, recordAudits, type Actor } from '../../db/audit.js';
import { insertStripePayments, insertUnappliedPayment, markCheckoutSessionsPaid } from '../../db/sql/payments.js';
import { queueReceipts } from '../../db/sql/receipts.js';
import type { Db } from '../../db/tenancy.js';
import { refreshInvoiceBalances } from '../../invoices/commands.js';
import { balanceOf, isPayable } from '../../lib/balance.js';
import { logger } from '../../logger.js';
import { chargeIdOf, splitCheckoutIdFor, type TargetedPayment } from './targets.js';

type SplitOutcome = 'recorded' | 'updated' | 'unchanged' | 'ignored' | 'unapplied';

interface SplitPart {
  invoice_id: string;
  position: number;
  amount_cents: number;
  lead_id: string;
  number: number;
  status: string;
  currency: string;
  total_cents: string | number;
  amount_paid_cents: string | number;
}

/** The split's parts with their invoices, locked in id order (the order every writer of money locks invoices), and the tip asked. */
async function lockedSplit(db: Db, checkoutId: string): Promise<{ parts: SplitPart[]; tip: number }> {
  const attempt = await db('checkout_sessions').where({ id: checkoutId }).first<{ tip_cents: string | number } | undefined>('tip_cents');
  const parts = await db('checkout_session_invoices')
    .where({ checkout_session_id: checkoutId })
    .select<{ invoice_id: string; position: number; amount_cents: string }[]>('invoice_id', 'position', 'amount_cents');
  if (parts.length === 0 || !attempt) return { parts: [], tip: 0 };
  const invoices = await db('invoices')
    .whereIn('id', parts.map((p) => p.invoice_id).sort())
    .orderBy('id')
    .forUpdate()
    .select<(Omit<SplitPart, 'invoice_id' | 'position' | 'amount_cents'> & { id: string })[]>(
      'id',
      'lead_id',
      'number',
      'status',
      'currency',
      'total_cents',
      'amount_paid_cents',
    );
  const byId = new Map(invoices.map((i) => [i.id, i]));
  const split = parts
    .map((p): SplitPart => ({
      ...byId.get(p.invoice_id)!,
      invoice_id: p.invoice_id,
      position: p.position,
      amount_cents: Number(p.amount_cents),
    }))
    .sort((a, b) => a.position - b.position);
  return { parts: split, tip: Number(attempt.tip_cents) };
}

/** Why the split can't be applied as a whole, or null when every part fits its invoice now. */
function splitProblem(
  parts: SplitPart[],
  amount: number,
  tip: number,
  currency: string,
): { reason: 'overpayment' | 'currency' | 'void' | 'draft'; part: SplitPart } | null {
  const sum = parts.reduce((n, p) => n + p.amount_cents, 0);
  for (const part of parts) {
    if (part.status === 'void') return { reason: 'void', part };
    if (part.status === 'draft') return { reason: 'draft', part };
    if (part.currency !== currency) return { reason: 'currency', part };
    if (!isPayable(part) || part.amount_cents > balanceOf(part)) return { reason: 'overpayment', part };
  }
  // The money received must be exactly the split plus the tip (anything else was not made by us).
  if (sum + tip !== amount) return { reason: 'overpayment', part: parts[0] };
  return null;
}

export async function recordStripeSplitPayments(
  db: Db,
  orgId: string,
  items: TargetedPayment[],
  actor: Actor,
): Promise<Map<string, SplitOutcome>> {
  const outcomes = new Map<string, SplitOutcome>();
  const sorted = [...items].sort((a, b) => a.paymentIntent.created - b.paymentIntent.created);
  for (const { paymentIntent: pi, checkoutSessionId } of sorted) {
    const checkoutId = splitCheckoutIdFor(orgId, pi.metadata);
    if (!checkoutId || pi.status !== 'succeeded' || !(pi.amount_received > 0)) {
      outcomes.set(pi.id, 'ignored');
      continue;
    }
    const { parts, tip } = await lockedSplit(db, checkoutId);
    if (parts.length === 0) {
      logger.warn({ paymentIntent: pi.id }, 'Stripe payment for a several-invoices Checkout we have no split for; ignored');
      outcomes.set(pi.id, 'ignored');
      continue;
    }
    const chargeId = chargeIdOf(pi.latest_charge);
    const paid = { payment_intent: pi.id, checkout_session: checkoutSessionId };
    const known = await db('payments')
      .where({ kind: 'payment', stripe_payment_intent_id: pi.id })
      .select<{ id: string; stripe_checkout_session_id: string | null; stripe_charge_id: string | null }[]>(
        'id',
        'stripe_checkout_session_id',
        'stripe_charge_id',
      );
    if (known.length) {
      // Recorded before (all parts at once): fill in ids a first, thinner look lacked.
      const fill: Record<string, string> = {};
      if (known.some((k) => !k.stripe_checkout_session_id) && checkoutSessionId) fill.stripe_checkout_session_id = checkoutSessionId;
      if (known.some((k) => !k.stripe_charge_id) && chargeId) fill.stripe_charge_id = chargeId;
      if (Object.keys(fill).length)
        await db('payments')
          .where({ kind: 'payment', stripe_payment_intent_id: pi.id })
          .update({ ...fill, updated_at: db.fn.now() });
      await markCheckoutSessionsPaid(db, [paid]);
      outcomes.set(pi.id, Object.keys(fill).length ? 'updated' : 'unchanged');
      continue;
    }
    const currency = pi.currency.toUpperCase();
    const problem = splitProblem(parts, pi.amount_received, tip, currency);
    if (problem) {
      const fresh = await insertUnappliedPayment(db, {
        payment_intent: pi.id,
        checkout_session: checkoutSessionId,
        charge: chargeId,
        invoice_id: problem.part.invoice_id,
        invoice_number: problem.part.number,
        amount_cents: pi.amount_received,
        currency,
        reason: problem.reason,
        created: pi.created,
      });
      if (fresh) {
        logger.error({ paymentIntent: pi.id, reason: problem.reason }, 'Stripe payment for several invoices not applied to any of them');
        await recordAudit(db, {
          actor,
          action: 'payment.stripe_unapplied', // i18n-exempt: Stripe's, SQL's and the audit log's names
          subjectType: 'invoice',
          subjectId: problem.part.invoice_id,
          data: {
            payment_intent: pi.id,
            checkout_session: checkoutSessionId,
            amount_cents: pi.amount_received,
            currency,
            reason: problem.reason,
            split: true,
          },
        });
      }
      outcomes.set(pi.id, 'unapplied');
      continue;
    }
    const inserted = await insertStripePayments(
      db,
      orgId,
      parts.map((part) => ({
        lead_id: part.lead_id,
        invoice_id: part.invoice_id,
        amount_cents: part.amount_cents,
        currency,
        created: pi.created,
        payment_intent: pi.id,
        checkout_session: checkoutSessionId,
        charge: chargeId,
        split_index: part.position,
        // The tip rides on the first part; it never reaches an invoice balance.
        tip_cents: part.position === 0 ? tip : 0,
      })),
    );
    await refreshInvoiceBalances(
      db,
      inserted.map((r) => r.invoice_id),
    );
    await markCheckoutSessionsPaid(db, [paid]);
    await recordAudits(
      db,
      inserted.map((r) => ({
        actor,
        action: 'payment.recorded', // i18n-exempt: Stripe's, SQL's and the audit log's names
        subjectType: 'payment',
        subjectId: r.id,
        data: {
          payment_intent: pi.id,
          checkout_session: checkoutSessionId,
          charge: chargeId,
          amount_cents: r.amount_cents,
          currency,
          invoice_id: r.invoice_id,
          split_of: pi.amount_received,
          ...(r.tip_cents ? { tip_cents: r.tip_cents } : {}),
          source: 'stripe',
        },
      })),
    );
    // Each invoice paid gets its receipt, queued with the payment (exactly once: one per payment row).
    await queueReceipts(
      db,
      inserted.map((r) => r.id),
    );
    outcomes.set(pi.id, inserted.length ? 'recorded' : 'unchanged');
  }
  return outcomes;
}
