// The org's own Porchlight subscription: Stripe Checkout to upgrade, the
// billing portal to manage, and subscription events that set the plan.
import type Stripe from 'stripe';
import { config } from '../config.js';
import { recordAudit, type Actor } from '../db/audit.js';
import type { OrgRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { logger } from '../logger.js';
import { lockOrg, setSubscription } from '../orgs/commands.js';
import { planForStripePrice, stripePriceFor, type PlanId } from '../plans.js';

/** Statuses in which the paid plan stays on (past_due: Stripe is still retrying the card). */
const PAID_STATUSES = new Set<Stripe.Subscription.Status>(['active', 'trialing', 'past_due']);

export function hasPaidSubscription(org: Pick<OrgRow, 'stripe_subscription_id' | 'subscription_status'>): boolean {
  return Boolean(org.stripe_subscription_id && org.subscription_status && (PAID_STATUSES as Set<string>).has(org.subscription_status));
}

/** The org's customer on the platform account, created once (the idempotency key is the org id). */
export async function ensureStripeCustomer(stripe: Stripe, db: Db, org: OrgRow, ownerEmail: string): Promise<string> {
  if (org.stripe_customer_id) return org.stripe_customer_id;
  const customer = await stripe.customers.create(
    { name: org.name, email: ownerEmail, metadata: { org_id: org.id } },
    { idempotencyKey: `platform-customer-${org.id}` }, // i18n-exempt: Stripe's and the audit log's names
  );
  await setSubscription(db, org.id, { stripe_customer_id: customer.id });
  return customer.id;
}

/** A Checkout Session in subscription mode for a paid plan; `attempt` makes double submits one session. */
export async function createSubscriptionCheckout(
  stripe: Stripe,
  input: { org: OrgRow; customerId: string; planId: Exclude<PlanId, 'free'>; attempt: string },
): Promise<string> {
  const price = stripePriceFor(input.planId);
  if (!price) throw new Error(`no Stripe price configured for ${input.planId}`);
  const base = `${config.publicUrl}/settings/billing`;
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'subscription',
      customer: input.customerId,
      line_items: [{ price, quantity: 1 }],
      client_reference_id: input.org.id,
      metadata: { org_id: input.org.id, plan: input.planId },
      subscription_data: { metadata: { org_id: input.org.id, plan: input.planId } },
      success_url: `${base}?checkout=success`,
      cancel_url: `${base}?checkout=cancelled`,
    },
    { idempotencyKey: `platform-checkout-${input.org.id}-${input.planId}-${input.attempt}` }, // i18n-exempt: Stripe's and the audit log's names
  );
  if (!session.url) throw new Error('Stripe returned a Checkout Session without a URL');
  return session.url;
}

export async function createBillingPortalSession(stripe: Stripe, customerId: string): Promise<string> {
  const session = await stripe.billingPortal.sessions.create({ customer: customerId, return_url: `${config.publicUrl}/settings/billing` });
  return session.url;
}

function subscriptionPrice(subscription: Stripe.Subscription): string | undefined {
  return subscription.items?.data?.[0]?.price?.id;
}

/**
 * Brings the org's plan in line with a subscription as Stripe reports it now
 * (re-fetched, so events arriving out of order or twice end in the same state).
 */
export async function applySubscription(db: Db, orgId: string, subscription: Stripe.Subscription, actor: Actor): Promise<void> {
  const org = await lockOrg(db, orgId);
  const customerId = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer?.id;
  const paid = PAID_STATUSES.has(subscription.status);
  if (!paid && org.stripe_subscription_id && org.stripe_subscription_id !== subscription.id) {
    // An older subscription ending while a newer one is in place: not the org's plan.
    return;
  }
  let plan: PlanId = 'free';
  if (paid) {
    const price = subscriptionPrice(subscription);
    const paidPlan = price ? planForStripePrice(price) : undefined;
    if (!paidPlan) {
      // A price this deployment doesn't know: keep the plan and say so, rather than guess.
      logger.warn({ orgId, subscription: subscription.id, price }, 'subscription price matches no plan; plan left unchanged');
      plan = org.plan;
    } else {
      plan = paidPlan;
    }
  }
  await setSubscription(db, orgId, {
    plan,
    subscription_status: subscription.status,
    stripe_subscription_id: subscription.id,
    ...(customerId && !org.stripe_customer_id ? { stripe_customer_id: customerId } : {}),
  });
  if (plan !== org.plan || subscription.status !== org.subscription_status) {
    await recordAudit(db, {
      actor,
      action: 'billing.subscription_updated', // i18n-exempt: Stripe's and the audit log's names
      subjectType: 'organization',
      subjectId: orgId,
      data: { from_plan: org.plan, to_plan: plan, status: subscription.status, subscription: subscription.id },
    });
  }
}
