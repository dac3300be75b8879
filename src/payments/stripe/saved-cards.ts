// Saved cards (issue 15 point 3, Pro): the one Stripe Customer a portal
// customer has on the org's connected account (created once: an idempotency key
// at Stripe and a unique row here), the card Checkout saved on it, and the
// customer's autopay switch. Only brand, last four digits and expiry are kept;
// the card itself stays at Stripe. Every call is on the connected account.
import Stripe from 'stripe';
import { recordAudit, type Actor } from '../../db/audit.js';
import { currentOrgId, type Db } from '../../db/tenancy.js';
import { forbidden } from '../../lib/errors.js';
import { planFor } from '../../plans.js';

interface OrgCardFields {
  id: string;
  plan: string;
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
}

interface CustomerRow {
  id: string;
  stripe_customer_id: string;
  payment_method_id: string | null;
  card_brand: string | null;
  card_last4: string | null;
  card_exp_month: number | null;
  card_exp_year: number | null;
  autopay_enabled_at: Date | null;
  autopay_link_id: string | null;
}

const CUSTOMER_COLUMNS = [
  'id',
  'stripe_customer_id',
  'payment_method_id',
  'card_brand',
  'card_last4',
  'card_exp_month',
  'card_exp_year',
  'autopay_enabled_at',
  'autopay_link_id',
] as const;

async function loadOrg(db: Db): Promise<OrgCardFields> {
  return db('organizations').first<OrgCardFields>('id', 'plan', 'stripe_account_id', 'stripe_charges_enabled');
}

/** Whether the business offers saved cards and autopay now: its plan (src/plans.ts) and a connected account that can charge. */
function offersSavedCards(org: { plan: string; stripe_account_id: string | null; stripe_charges_enabled: boolean }): boolean {
  return planFor(org.plan).savedCardsAndAutopay && !!org.stripe_account_id && org.stripe_charges_enabled;
}

async function customerRow(db: Db, leadId: string, account: string): Promise<CustomerRow | undefined> {
  return db('stripe_customers')
    .where({ lead_id: leadId, stripe_account_id: account })
    .first<CustomerRow | undefined>(...CUSTOMER_COLUMNS);
}

/**
 * The portal customer's Stripe Customer on the connected account, created the
 * first time. Two requests at once make one: the same idempotency key gets the
 * same Customer back from Stripe, and the unique row keeps one here.
 */
export async function ensureStripeCustomer(db: Db, stripe: Stripe, leadId: string, account: string): Promise<string> {
  const known = await customerRow(db, leadId, account);
  if (known) return known.stripe_customer_id;
  const lead = await db('leads')
    .where({ id: leadId })
    .first<{ first_name: string; last_name: string | null; email: string | null; phone: string | null; org_id: string }>(
      'first_name',
      'last_name',
      'email',
      'phone',
      'org_id',
    );
  if (!lead) throw new Error(`no lead ${leadId} in this org`);
  const customer = await stripe.customers.create(
    {
      name: [lead.first_name, lead.last_name].filter(Boolean).join(' ').slice(0, 256),
      ...(lead.email ? { email: lead.email } : {}),
      metadata: { org_id: lead.org_id, lead_id: leadId },
    },
    { stripeAccount: account, idempotencyKey: `customer-${lead.org_id}-${leadId}-${account}` },
  );
  await db('stripe_customers')
    .insert({ org_id: currentOrgId(db), lead_id: leadId, stripe_account_id: account, stripe_customer_id: customer.id })
    .onConflict(['org_id', 'lead_id', 'stripe_account_id'])
    .ignore();
  const row = await customerRow(db, leadId, account);
  return row!.stripe_customer_id;
}

/**
 * Checkout parameters that save the card on the customer's Stripe Customer
 * (Pro only): `customer` (Checkout then takes no customer_email) and
 * setup_future_usage off_session, so the card can be charged later without them.
 */
export async function saveCardCheckoutParams(
  db: Db,
  stripe: Stripe,
  leadId: string,
  saveCard: boolean,
): Promise<{ customer: string; setup_future_usage: 'off_session' } | null> {
  if (!saveCard) return null;
  const org = await loadOrg(db);
  if (!offersSavedCards(org)) return null;
  const customer = await ensureStripeCustomer(db, stripe, leadId, org.stripe_account_id!);
  return { customer, setup_future_usage: 'off_session' };
}

export interface SavedCardFacts {
  leadId: string;
  account: string;
  customerId: string;
  paymentMethod: Pick<Stripe.PaymentMethod, 'id' | 'customer'> & {
    card?: Pick<Stripe.PaymentMethod.Card, 'brand' | 'last4' | 'exp_month' | 'exp_year'> | null;
  };
}

/**
 * Keeps the card a paid Checkout saved (from its webhook): brand, last four
 * digits and expiry. Only a card Stripe attached to this customer's Customer;
 * the newest saved card replaces an older one. Returns whether one was kept.
 */
export async function recordSavedCard(db: Db, facts: SavedCardFacts, actor: Actor): Promise<boolean> {
  const pm = facts.paymentMethod;
  const attachedTo = typeof pm.customer === 'string' ? pm.customer : (pm.customer?.id ?? null);
  if (!pm.card || attachedTo !== facts.customerId) return false;
  const updated = await db('stripe_customers')
    .where({ lead_id: facts.leadId, stripe_account_id: facts.account, stripe_customer_id: facts.customerId })
    .where((w) => {
      void w.whereNull('payment_method_id').orWhereNot('payment_method_id', pm.id);
    })
    .update({
      payment_method_id: pm.id,
      card_brand: pm.card.brand,
      card_last4: pm.card.last4,
      card_exp_month: pm.card.exp_month,
      card_exp_year: pm.card.exp_year,
      card_saved_at: db.fn.now(),
      updated_at: db.fn.now(),
    })
    .returning('id');
  if (!updated.length) return false;
  await recordAudit(db, {
    actor,
    // i18n-exempt: audit action
    action: 'card.saved',
    subjectType: 'lead',
    subjectId: facts.leadId,
    data: { brand: pm.card.brand, last4: pm.card.last4 },
  });
  return true;
}

export interface SavedCardState {
  /** The business offers saved cards (Pro, account able to charge). */
  available: boolean;
  card: { brand: string; last4: string; exp_month: number; exp_year: number } | null;
  autopay: boolean;
}

/**
 * Detaches from the customer's Stripe Customer (on the connected account) every
 * card but `keep`: each Checkout that saves a card attaches a new one, and a
 * card the portal no longer shows must not stay chargeable at Stripe.
 */
export async function detachOtherCards(stripe: Stripe, account: string, customerId: string, keep: string | null): Promise<void> {
  // i18n-exempt: Stripe's payment method type
  for await (const pm of stripe.customers.listPaymentMethods(customerId, { type: 'card', limit: 100 }, { stripeAccount: account })) {
    if (pm.id === keep) continue;
    try {
      await stripe.paymentMethods.detach(pm.id, {}, { stripeAccount: account });
    } catch (err) {
      // Detached meanwhile (another delivery of the same event): nothing left to do for it.
      if (!(err instanceof Stripe.errors.StripeInvalidRequestError)) throw err;
    }
  }
}

/**
 * Removes the saved card: every card of the customer detached from their
 * Customer at Stripe (on the connected account) and the card forgotten here,
 * which also turns autopay off.
 */
export async function removeSavedCard(db: Db, stripe: Stripe, leadId: string, actor: Actor): Promise<boolean> {
  const org = await loadOrg(db);
  if (!org.stripe_account_id) return false;
  const row = await db('stripe_customers')
    .where({ lead_id: leadId, stripe_account_id: org.stripe_account_id })
    .forUpdate()
    .first<CustomerRow | undefined>(...CUSTOMER_COLUMNS);
  if (!row?.payment_method_id) return false;
  await detachOtherCards(stripe, org.stripe_account_id, row.stripe_customer_id, null);
  await db('stripe_customers').where({ id: row.id }).update({
    payment_method_id: null,
    card_brand: null,
    card_last4: null,
    card_exp_month: null,
    card_exp_year: null,
    card_saved_at: null,
    autopay_enabled_at: null,
    autopay_link_id: null,
    updated_at: db.fn.now(),
  });
  // i18n-exempt: audit action
  await recordAudit(db, { actor, action: 'card.removed', subjectType: 'lead', subjectId: leadId, data: { last4: row.card_last4 } });
  return true;
}

/**
 * Turns autopay on or off for the customer (Pro only; on needs a saved card).
 * On is tied to the portal link it was turned on through: revoking that link
 * stops it.
 */
export async function setAutopay(db: Db, leadId: string, linkId: string, on: boolean, actor: Actor): Promise<void> {
  const org = await loadOrg(db);
  if (!offersSavedCards(org)) throw forbidden('autopay:errors.notOffered');
  const row = await customerRow(db, leadId, org.stripe_account_id!);
  if (on && !row?.payment_method_id) throw forbidden('autopay:errors.noCard');
  if (!row) return;
  const changed = await db('stripe_customers')
    .where({ id: row.id })
    .modify((q) => {
      if (on) void q.whereNull('autopay_enabled_at');
      else void q.whereNotNull('autopay_enabled_at');
    })
    .update(
      on
        ? { autopay_enabled_at: db.fn.now(), autopay_link_id: linkId, updated_at: db.fn.now() }
        : { autopay_enabled_at: null, autopay_link_id: null, updated_at: db.fn.now() },
    );
  if (changed) {
    // i18n-exempt: audit action
    await recordAudit(db, { actor, action: on ? 'autopay.enabled' : 'autopay.disabled', subjectType: 'lead', subjectId: leadId });
  }
}
