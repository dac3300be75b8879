// Plans and the org's own subscription: contractor pages.
import { Router } from 'express';
import { z } from 'zod';
import { config } from '../config.js';
import { recordAudit } from '../db/audit.js';
import { orgPage, type PageContext, type PageResult } from '../http/page.js';
import { logger } from '../logger.js';
import { connectStatus } from '../payments/stripe/connect.js';
import { PLANS, PLAN_IDS, planAdditions, stripePriceFor } from '../plans.js';
import { countActiveLinks } from '../portal-links/queries.js';
import { getStripe, stripeConfigured } from '../stripe/client.js';
import { createBillingPortalSession, createSubscriptionCheckout, ensureStripeCustomer, hasPaidSubscription } from './commands.js';

export const adminRouter = Router();

const checkoutSchema = z.object({
  plan: z.enum(['starter', 'pro'], { error: 'Choose Starter or Pro' }),
  attempt: z.uuid({ error: 'This form has expired. Reload the page and try again.' }),
});

const CHECKOUT_NOTES: Record<string, { type: 'success' | 'info'; message: string }> = {
  success: {
    type: 'success',
    message:
      'Thanks! Your plan changes as soon as Stripe confirms the subscription, usually within a few seconds. Reload this page to see it.',
  },
  cancelled: { type: 'info', message: 'Checkout was cancelled. Your plan hasn’t changed.' },
};

function missingStripeSettings(): string[] {
  const missing: string[] = [];
  if (!config.stripe.secretKey) missing.push('STRIPE_SECRET_KEY');
  if (!config.stripe.webhookSecret) missing.push('STRIPE_WEBHOOK_SECRET');
  if (!config.stripe.priceStarter) missing.push('STRIPE_PRICE_STARTER');
  if (!config.stripe.pricePro) missing.push('STRIPE_PRICE_PRO');
  return missing;
}

async function billingPage(ctx: PageContext, extra: Record<string, unknown> = {}, status = 200): Promise<PageResult> {
  const activeLinks = await countActiveLinks(ctx.db);
  const limit = ctx.plan.maxActivePortalLinks;
  const paid = hasPaidSubscription(ctx.org);
  const key = typeof ctx.req.query.checkout === 'string' ? ctx.req.query.checkout : '';
  const note = Object.hasOwn(CHECKOUT_NOTES, key) ? CHECKOUT_NOTES[key] : undefined;
  return {
    render: 'admin/settings/billing',
    status,
    locals: {
      title: 'Plan & billing',
      plan: ctx.plan,
      subscriptionStatus: ctx.org.subscription_status,
      activeLinks,
      linkLimit: limit,
      overLimit: limit !== null && activeLinks >= limit,
      plans: PLAN_IDS.map((id) => ({
        ...PLANS[id],
        current: id === ctx.plan.id,
        purchasable: id !== 'free' && Boolean(stripePriceFor(id)),
        adds: planAdditions(id),
        includesBelow: PLAN_IDS.indexOf(id) > 0 ? PLANS[PLAN_IDS[PLAN_IDS.indexOf(id) - 1]].name : null,
      })),
      // The Payments page's words for the same fact, so the two pages never disagree.
      paymentsStatus: connectStatus(ctx.org),
      stripeReady: stripeConfigured(),
      missingSettings: missingStripeSettings(),
      hasPaidSubscription: paid,
      canManage: stripeConfigured() && Boolean(ctx.org.stripe_customer_id),
      attempt: crypto.randomUUID(),
      note,
      ...extra,
    },
  };
}

adminRouter.get(
  '/settings/billing',
  orgPage((ctx) => billingPage(ctx), { ownerOnly: true }),
);

adminRouter.post(
  '/settings/billing/checkout',
  orgPage(
    async (ctx) => {
      const parsed = checkoutSchema.safeParse(ctx.req.body);
      if (!parsed.success) return billingPage(ctx, { formError: parsed.error.issues[0].message }, 422);
      const { plan, attempt } = parsed.data;
      if (!stripeConfigured() || !stripePriceFor(plan)) {
        return billingPage(ctx, { formError: 'Online upgrades aren’t set up on this server yet (see the settings listed below).' }, 409);
      }
      if (hasPaidSubscription(ctx.org)) {
        return billingPage(ctx, { formError: 'You already have a subscription. Change or cancel it with “Manage subscription”.' }, 409);
      }
      if (ctx.plan.id === plan) return billingPage(ctx, { formError: `You’re already on ${PLANS[plan].name}.` }, 409);
      try {
        const stripe = getStripe();
        const customerId = await ensureStripeCustomer(stripe, ctx.db, ctx.org, ctx.user.email);
        const url = await createSubscriptionCheckout(stripe, { org: ctx.org, customerId, planId: plan, attempt });
        await recordAudit(ctx.db, {
          actor: ctx.actor,
          action: 'billing.checkout_started',
          subjectType: 'organization',
          subjectId: ctx.org.id,
          data: { plan },
        });
        return { redirect: url };
      } catch (err) {
        logger.error({ err: (err as Error).message, orgId: ctx.org.id }, 'subscription checkout failed');
        // A redirect (not an error status) so a customer id created above is kept.
        return {
          redirect: '/settings/billing',
          flash: 'Stripe couldn’t start the checkout just now. Please try again in a minute.',
          flashType: 'error',
        };
      }
    },
    { ownerOnly: true },
  ),
);

adminRouter.post(
  '/settings/billing/portal',
  orgPage(
    async (ctx) => {
      if (!stripeConfigured() || !ctx.org.stripe_customer_id) {
        return billingPage(ctx, { formError: 'There is no subscription to manage yet.' }, 409);
      }
      try {
        const url = await createBillingPortalSession(getStripe(), ctx.org.stripe_customer_id);
        return { redirect: url };
      } catch (err) {
        logger.error({ err: (err as Error).message, orgId: ctx.org.id }, 'billing portal session failed');
        return billingPage(ctx, { formError: 'Stripe’s billing portal couldn’t be opened just now. Please try again in a minute.' }, 502);
      }
    },
    { ownerOnly: true },
  ),
);
