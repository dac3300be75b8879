// Plans and the org's own subscription: contractor pages.
import { Router } from 'express';
import { z } from 'zod';
import { config } from '../config.js';
import { recordAudit } from '../db/audit.js';
import { orgPage, type PageContext, type PageResult } from '../http/page.js';
import { logger } from '../logger.js';
import { connectStatus } from '../payments/stripe/connect.js';
import { hasKey, msg, t, type Language } from '../i18n/index.js';
import { PLANS, PLAN_IDS, planAdditions, planName, stripePriceFor } from '../plans.js';
import { countActiveLinks } from '../portal-links/queries.js';
import { getStripe, stripeConfigured } from '../stripe/client.js';
import { createBillingPortalSession, createSubscriptionCheckout, ensureStripeCustomer, hasPaidSubscription } from './commands.js';

export const adminRouter = Router();

const checkoutSchema = z.object({
  plan: z.enum(['starter', 'pro'], { error: 'settings:billing.choosePlan' }),
  attempt: z.uuid({ error: 'settings:billing.formExpired' }),
});

const CHECKOUT_NOTES: Record<string, { type: 'success' | 'info'; message: string }> = {
  success: { type: 'success', message: 'settings:billing.checkoutSuccess' },
  cancelled: { type: 'info', message: 'settings:billing.checkoutCancelled' },
};

/** The platform webhook's events, as the set-up note lists them (Stripe's names). */
const PLATFORM_WEBHOOK_EVENTS = [
  'customer.subscription.created', // i18n-exempt: Stripe's event names
  'customer.subscription.updated', // i18n-exempt: Stripe's event names
  'customer.subscription.deleted', // i18n-exempt: Stripe's event names
  'checkout.session.completed', // i18n-exempt: Stripe's event names
];

/** A Stripe subscription status in the reader's words; one we don't know, as Stripe writes it. */
function subscriptionStatusWords(lang: Language, status: string | null): string {
  if (!status) return '';
  const key = `settings:billing.subscription.${status}`;
  return hasKey(lang, key) ? t(lang, key) : status.replace(/_/g, ' ');
}

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
  const lang = ctx.res.locals.lang as Language;
  return {
    render: 'admin/settings/billing',
    status,
    locals: {
      title: t(lang, 'settings:billing.heading'),
      plan: ctx.plan,
      planName: planName(lang, ctx.plan.id),
      freePlanName: planName(lang, 'free'),
      planCurrency: 'USD',
      subscriptionStatus: ctx.org.subscription_status,
      subscriptionStatusWords: subscriptionStatusWords(lang, ctx.org.subscription_status),
      activeLinks,
      linkLimit: limit,
      overLimit: limit !== null && activeLinks >= limit,
      plans: PLAN_IDS.map((id) => ({
        ...PLANS[id],
        label: planName(lang, id),
        current: id === ctx.plan.id,
        purchasable: id !== 'free' && Boolean(stripePriceFor(id)),
        adds: planAdditions(id, lang),
        includesBelow: PLAN_IDS.indexOf(id) > 0 ? planName(lang, PLAN_IDS[PLAN_IDS.indexOf(id) - 1]) : null,
      })),
      // The Payments page's words for the same fact, so the two pages never disagree.
      paymentsStatus: connectStatus(ctx.org),
      missingSettings: missingStripeSettings(),
      // The server's setting names are for whoever runs it, not for a business on it: in production
      // the card only says plan changes aren't available online yet.
      showSettingNames: !config.isProduction,
      webhookEvents: PLATFORM_WEBHOOK_EVENTS,
      webhookEventsBeforeLast: PLATFORM_WEBHOOK_EVENTS.length - 2,
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
        return billingPage(ctx, { formError: 'settings:billing.upgradesNotSetUp' }, 409);
      }
      if (hasPaidSubscription(ctx.org)) {
        return billingPage(ctx, { formError: 'settings:billing.alreadySubscribed' }, 409);
      }
      if (ctx.plan.id === plan)
        return billingPage(
          ctx,
          { formError: msg('settings:billing.alreadyOn', { plan: planName(ctx.res.locals.lang as Language, plan) }) },
          409,
        );
      try {
        const stripe = getStripe();
        const customerId = await ensureStripeCustomer(stripe, ctx.db, ctx.org, ctx.user.email);
        const url = await createSubscriptionCheckout(stripe, { org: ctx.org, customerId, planId: plan, attempt });
        await recordAudit(ctx.db, {
          actor: ctx.actor,
          action: 'billing.checkout_started', // i18n-exempt: Stripe's and the audit log's names
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
          flash: 'settings:billing.checkoutFailed',
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
        return billingPage(ctx, { formError: 'settings:billing.nothingToManage' }, 409);
      }
      try {
        const url = await createBillingPortalSession(getStripe(), ctx.org.stripe_customer_id);
        return { redirect: url };
      } catch (err) {
        logger.error({ err: (err as Error).message, orgId: ctx.org.id }, 'billing portal session failed');
        return billingPage(ctx, { formError: 'settings:billing.portalFailed' }, 502);
      }
    },
    { ownerOnly: true },
  ),
);
