// The way back from Stripe Checkout: the only writer of checkout_returns. Stripe
// holds a Checkout Session's return URLs for as long as it keeps the session, so
// they carry one-time codes instead of the portal token. A code works once, for
// a day, and only while the portal link it was made for is active; it brings the
// customer back to the invoice page (the only place the token appears again).
import { checkoutReturnByCodeHash } from '../../db/lookups.js';
import { nowPlusSeconds } from '../../db/sql/time.js';
import type { Db } from '../../db/tenancy.js';
import { newOneTimeToken, sha256Hex, TOKEN_PATTERN } from '../../lib/tokens.js';

const RETURN_CODE_SECONDS = 24 * 60 * 60;

export type CheckoutOutcome = 'completed' | 'cancelled';

/** A code for each way back from one Checkout attempt (paid, or cancelled). */
export async function createCheckoutReturnCodes(
  db: Db,
  // An invoice's payment, a proposal's deposit, or several invoices at once (the way back leads to the list).
  attempt: { orgId: string; checkoutRowId: string; portalLinkId: string } & (
    { invoiceId: string } | { proposalId: string } | { several: true }
  ),
): Promise<Record<CheckoutOutcome, string>> {
  const codes = { completed: newOneTimeToken(), cancelled: newOneTimeToken() };
  await db('checkout_returns').insert(
    (Object.keys(codes) as CheckoutOutcome[]).map((outcome) => ({
      org_id: attempt.orgId,
      checkout_session_id: attempt.checkoutRowId,
      portal_link_id: attempt.portalLinkId,
      ...('invoiceId' in attempt ? { invoice_id: attempt.invoiceId } : 'proposalId' in attempt ? { proposal_id: attempt.proposalId } : {}),
      outcome,
      code_sha256: codes[outcome].sha256,
      expires_at: nowPlusSeconds(db, RETURN_CODE_SECONDS),
    })),
  );
  return { completed: codes.completed.token, cancelled: codes.cancelled.token };
}

/** Which org a code belongs to, or null for a malformed or unknown code. */
export async function checkoutReturnOrg(code: string): Promise<{ returnId: string; orgId: string } | null> {
  if (!TOKEN_PATTERN.test(code)) return null;
  const found = await checkoutReturnByCodeHash(sha256Hex(code));
  return found ? { returnId: found.return_id, orgId: found.org_id } : null;
}

export type UsedCheckoutReturn =
  | {
      ok: true;
      outcome: CheckoutOutcome;
      /** Where the customer goes back to: the invoice paid, or the proposal whose deposit was paid. */
      invoiceId: string | null;
      proposalId: string | null;
      portalLinkId: string;
      leadId: string;
      stripeCheckoutSessionId: string | null;
    }
  | { ok: false; problem: 'used' | 'expired' | 'revoked' };

/** Uses up a code inside its org's transaction; says why when it can't be used. */
export async function useCheckoutReturn(db: Db, returnId: string): Promise<UsedCheckoutReturn> {
  const [used] = await db('checkout_returns')
    .where({ id: returnId })
    .whereNull('used_at')
    .where('expires_at', '>', db.fn.now())
    .whereExists(db('portal_links').select(1).where('portal_links.id', db.ref('checkout_returns.portal_link_id')).whereNull('revoked_at')) // i18n-exempt: Stripe's, SQL's and the audit log's names
    .update({ used_at: db.fn.now() })
    .returning<
      {
        outcome: CheckoutOutcome;
        invoice_id: string | null;
        proposal_id: string | null;
        portal_link_id: string;
        checkout_session_id: string;
      }[]
    >(['outcome', 'invoice_id', 'proposal_id', 'portal_link_id', 'checkout_session_id']);
  if (used) {
    const attempt = await db('checkout_sessions')
      .where({ id: used.checkout_session_id })
      .first<{ lead_id: string; stripe_checkout_session_id: string | null }>('lead_id', 'stripe_checkout_session_id');
    return {
      ok: true,
      outcome: used.outcome,
      invoiceId: used.invoice_id,
      proposalId: used.proposal_id,
      portalLinkId: used.portal_link_id,
      leadId: attempt.lead_id,
      stripeCheckoutSessionId: attempt.stripe_checkout_session_id,
    };
  }
  const row = await db('checkout_returns as r') // i18n-exempt: Stripe's, SQL's and the audit log's names
    .join('portal_links as l', 'l.id', 'r.portal_link_id') // i18n-exempt: Stripe's, SQL's and the audit log's names
    .where('r.id', returnId)
    .first<{ used_at: Date | null; revoked_at: Date | null } | undefined>('r.used_at', 'l.revoked_at');
  if (row?.used_at) return { ok: false, problem: 'used' };
  if (row?.revoked_at) return { ok: false, problem: 'revoked' };
  return { ok: false, problem: 'expired' };
}
