// Autopay's one cross-org statement: claim_autopay_attempts()
// (migrations/20261220000000_saved_cards_autopay.ts) stores today's attempt for
// every due invoice whose customer has autopay on, and returns what to charge.
import { PLAN_IDS, PLANS, type PlanId } from '../../plans.js';
import { brandedEmailHtml, ORG_BRANDING_COLUMNS, type BrandedEmail, type OrgBrandingFacts } from '../email-layout.js';
import { CURRENT_ORG, withoutOrg, type Db } from '../tenancy.js';

/** The plans whose customers may use autopay (src/plans.ts decides). */
function autopayPlans(): PlanId[] {
  return PLAN_IDS.filter((id) => PLANS[id].savedCardsAndAutopay);
}

export interface ClaimedAutopayAttempt {
  attempt_id: string;
  org_id: string;
  invoice_id: string;
  lead_id: string;
  idempotency_key: string;
  stripe_account_id: string;
  stripe_customer_id: string;
  payment_method_id: string;
  amount_cents: string | number;
  currency: string;
  /** The platform fee fixed when the attempt was claimed (its plan's, src/plans.ts); a retry asks for the same. */
  application_fee_cents: string | number;
}

/**
 * Claims at most `limit` charges due at `now`: new attempts (one per invoice per
 * local day, at most `maxAttempts` per invoice, each with its plan's platform fee
 * worked out as platformFeeCents() does) and attempts left pending for
 * `retryAfterSeconds` (retried with their own idempotency key and fee).
 */
export async function claimAutopayAttempts(
  now: Date,
  maxAttempts: number,
  retryAfterSeconds: number,
  limit: number,
): Promise<ClaimedAutopayAttempt[]> {
  const plans = autopayPlans();
  return withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: ClaimedAutopayAttempt[] }>(
      'select * from claim_autopay_attempts(?::text[], ?::integer[], ?::timestamptz, ?::integer, make_interval(secs => ?), ?::integer)',
      [plans, plans.map((id) => PLANS[id].platformFeeBps), now.toISOString(), maxAttempts, retryAfterSeconds, limit],
    );
    return rows;
  });
}

export interface AutopayFailureNotice {
  invoiceId: string;
  leadId: string;
  /** The link autopay runs under: the Pay link in the message is its invoice page. */
  portalLinkId: string;
  to: { email: string | null; phone: string | null };
  subject: string;
  /** The message with `{link}` where the invoice's Pay link goes (the text part and the SMS). */
  text: string;
  sms: string;
  /** The email's HTML but for the Pay link, which is the branded layout's button. */
  html: Omit<BrandedEmail, 'link'>;
}

/**
 * Stores "your automatic payment did not go through" for the customer, by email
 * and by text where they have each, in the caller's transaction (the current
 * org). `link` is the portal-link placeholder the send worker fills in; the Pay
 * link is that link's page of the invoice. Returns the new delivery ids.
 */
export async function storeAutopayFailureNotices(db: Db, notices: AutopayFailureNotice[], link: string): Promise<string[]> {
  const rows = notices.flatMap((n) => {
    const pay = `${link}/invoices/${n.invoiceId}`;
    const base = {
      org_id: db.raw(CURRENT_ORG),
      lead_id: n.leadId,
      portal_link_id: n.portalLinkId,
      context: 'invoice',
      purpose: 'autopay',
      status: 'pending',
    };
    return [
      ...(n.to.email
        ? [
            {
              ...base,
              channel: 'email',
              to_address: n.to.email,
              subject: n.subject,
              body_text: n.text.split('{link}').join(pay),
              body_html: brandedEmailHtml({ ...n.html, link: pay }),
            },
          ]
        : []),
      ...(n.to.phone
        ? [{ ...base, channel: 'sms', to_address: n.to.phone, subject: null, body_text: n.sms.split('{link}').join(pay), body_html: null }]
        : []),
    ];
  });
  if (rows.length === 0) return [];
  const inserted = await db('message_deliveries').insert(rows).returning<{ id: string }[]>('id');
  return inserted.map((r) => r.id);
}

export interface AutopayNoticeFacts extends OrgBrandingFacts {
  invoice_id: string;
  number: number;
  first_name: string;
  email: string | null;
  phone: string | null;
  language: string | null;
  autopay_link_id: string | null;
  card_brand: string | null;
  card_last4: string | null;
}

/** What a failure notice says and where it goes, for these invoices of the current org. */
export async function autopayNoticeFacts(db: Db, invoiceIds: string[]): Promise<AutopayNoticeFacts[]> {
  const { rows } = await db.raw<{ rows: AutopayNoticeFacts[] }>(
    `select v.id as invoice_id, v.number, l.first_name, l.email, l.phone, l.language, ${ORG_BRANDING_COLUMNS},
            c.autopay_link_id, c.card_brand, c.card_last4
       from invoices v
       join leads l on l.id = v.lead_id
       join organizations o on o.id = v.org_id
       left join stripe_customers c on c.lead_id = v.lead_id and c.stripe_account_id = o.stripe_account_id
      where v.id = any(?::uuid[])`,
    [invoiceIds],
  );
  return rows;
}

export interface AutopayAttemptOutcome {
  id: string;
  status: 'succeeded' | 'failed';
  payment_intent: string | null;
  failure_code: string | null;
  failure_message: string | null;
}

/** Finishes these attempts of the current org in one statement. */
export async function finishAutopayAttempts(db: Db, outcomes: AutopayAttemptOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.raw(
    `update autopay_attempts a
        set status = o.status, stripe_payment_intent_id = o.payment_intent, failure_code = o.failure_code,
            failure_message = o.failure_message, finished_at = now()
       from jsonb_to_recordset(?::jsonb) as o(id uuid, status text, payment_intent text, failure_code text, failure_message text)
      where a.id = o.id and a.status = 'pending'`,
    [JSON.stringify(outcomes)],
  );
}
