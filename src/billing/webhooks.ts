// The platform's own subscription events at /webhooks/stripe/platform.
// Mounted before any body parser: the signature covers the exact bytes sent,
// so this router reads the raw body itself.
import { Router } from 'express';
import type Stripe from 'stripe';
import { config } from '../config.js';
import { orgByStripeCustomer } from '../db/lookups.js';
import { withOrg } from '../db/tenancy.js';
import { uuidOrNull } from '../lib/ids.js';
import { logger } from '../logger.js';
import { getStripe, stripeConfigured } from '../stripe/client.js';
import { applyStripeEventOnce } from '../stripe/events.js';
import { stripeWebhook } from '../stripe/webhook.js';
import { applySubscription } from './commands.js';

export const webhookRouter = Router();

type Outcome = 'processed' | 'duplicate' | 'ignored';

interface PlatformEventHandler {
  /** Which subscription the event is about, and which org it belongs to (undefined: not ours). */
  locate(event: Stripe.Event): Promise<{ orgId: string; subscriptionId: string } | undefined>;
}

async function orgByCustomer(customerId: string | undefined): Promise<string | undefined> {
  if (!customerId) return undefined;
  return (await orgByStripeCustomer(customerId)) ?? undefined;
}

function idOf(value: string | { id: string } | null | undefined): string | undefined {
  if (!value) return undefined;
  return typeof value === 'string' ? value : value.id;
}

/**
 * The org for a customer: the stored customer id decides; the org id in the
 * metadata we set at checkout counts only for an org with no customer yet.
 */
async function orgFor(customerId: string | undefined, metadataOrgId: string | null | undefined): Promise<string | undefined> {
  const byCustomer = await orgByCustomer(customerId);
  if (byCustomer) return byCustomer;
  const candidate = uuidOrNull(metadataOrgId);
  if (!candidate) return undefined;
  const free = await withOrg(candidate, async (db) => {
    const org = await db('organizations').first<{ stripe_customer_id: string | null } | undefined>('stripe_customer_id');
    return org !== undefined && (org.stripe_customer_id === null || org.stripe_customer_id === customerId);
  });
  return free ? candidate : undefined;
}

const subscriptionEvent: PlatformEventHandler = {
  async locate(event) {
    const subscription = event.data.object as Stripe.Subscription;
    const orgId = await orgFor(idOf(subscription.customer), subscription.metadata?.org_id);
    return orgId ? { orgId, subscriptionId: subscription.id } : undefined;
  },
};

/** Ghost's shape: a table from event type to handler; anything else is acknowledged and ignored. */
const HANDLERS: Record<string, PlatformEventHandler> = {
  'customer.subscription.created': subscriptionEvent, // i18n-exempt: Stripe's event names
  'customer.subscription.updated': subscriptionEvent, // i18n-exempt: Stripe's event names
  'customer.subscription.deleted': subscriptionEvent, // i18n-exempt: Stripe's event names
  // i18n-exempt: Stripe's event name
  'checkout.session.completed': {
    async locate(event) {
      const session = event.data.object as Stripe.Checkout.Session;
      const subscriptionId = idOf(session.subscription);
      if (session.mode !== 'subscription' || !subscriptionId) return undefined;
      const orgId = await orgFor(idOf(session.customer), session.client_reference_id ?? session.metadata?.org_id);
      return orgId ? { orgId, subscriptionId } : undefined;
    },
  },
};

/** Every platform event this endpoint acts on (the README lists them to register). */
export const PLATFORM_EVENT_TYPES = Object.keys(HANDLERS);

/** Verifies, then applies the event once. Exported for tests of the edge cases. */
async function handlePlatformEvent(event: Stripe.Event): Promise<Outcome> {
  const handler = HANDLERS[event.type];
  if (!handler) return 'ignored';
  const target = await handler.locate(event);
  if (!target) {
    logger.warn({ event: event.id, type: event.type }, 'platform Stripe event for no known org; ignored');
    return 'ignored';
  }
  // Re-fetch: events arrive out of order and several per change; Stripe's current state is the truth.
  const subscription = await getStripe().subscriptions.retrieve(target.subscriptionId);
  return applyStripeEventOnce(target.orgId, event, (db) =>
    applySubscription(db, target.orgId, subscription, { type: 'stripe', label: event.id }),
  );
}

webhookRouter.post(
  '/',
  ...stripeWebhook({
    name: 'platform Stripe webhook', // i18n-exempt: a name for the log
    secret: () => (stripeConfigured() ? config.stripe.webhookSecret : undefined),
    handle: handlePlatformEvent,
  }),
);
