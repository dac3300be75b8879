// The local test checkout: `npm run dev` with no Stripe keys still lets a
// contractor connect "Stripe" and a customer press Pay. The Stripe SDK is
// pointed at the Connect stand-in (src/dev/stripe-standin.ts) running in this
// process; Pay leads to /dev/checkout/<session>, a page that looks like a
// checkout, and completing it posts a checkout.session.completed event, signed
// with the SDK's own helper, to the real /webhooks/stripe handler: the payment
// is recorded exactly the way a real Stripe event records it. Never in
// production: config only asks for it in development, startLocalStripe()
// refuses production, and app.ts doesn't mount the page there.
import crypto from 'node:crypto';
import { Router, type Request } from 'express';
import { config } from '../config.js';
import { withOrg } from '../db/tenancy.js';
import { formatMoney } from '../lib/money.js';
import { logger } from '../logger.js';
import { getStripe, resetStripe } from '../stripe/client.js';
import { StripeConnectStandIn } from './stripe-standin.js';

const LOCAL_SECRET_KEY = 'sk_test_porchlight_local_checkout';

let active: { standIn: StripeConnectStandIn; saved: typeof config.stripe } | undefined;

/** Starts the stand-in and points the Stripe client at it. `publicUrl`: where this app is reached. */
export async function startLocalStripe(publicUrl = config.publicUrl): Promise<StripeConnectStandIn> {
  if (config.isProduction) throw new Error('The local test checkout never runs in production');
  if (active) return active.standIn;
  const base = publicUrl.replace(/\/+$/, '');
  const standIn = new StripeConnectStandIn({ instantOnboarding: true, checkoutUrl: (id) => `${base}/dev/checkout/${id}` });
  standIn.recordRequests = false;
  const apiUrl = await standIn.start();
  active = { standIn, saved: { ...config.stripe } };
  Object.assign(config.stripe, {
    secretKey: LOCAL_SECRET_KEY,
    apiUrl,
    connectWebhookSecret: `whsec_local_${crypto.randomBytes(24).toString('hex')}`,
    localTestCheckout: true,
  });
  resetStripe();
  logger.info('No Stripe keys: payments use the local test checkout (no money moves)');
  return standIn;
}

export async function stopLocalStripe(): Promise<void> {
  if (!active) return;
  const { standIn, saved } = active;
  active = undefined;
  await standIn.stop();
  Object.assign(config.stripe, saved);
  resetStripe();
}

export const localCheckoutRouter = Router();

function openSession(req: Request) {
  if (config.isProduction || !active) return undefined;
  const found = active.standIn.findSession(String(req.params.id));
  return found ? { ...found, standIn: active.standIn } : undefined;
}

async function businessName(orgId: string | undefined): Promise<string> {
  if (!orgId || !/^[0-9a-f-]{36}$/.test(orgId)) return 'Porchlight';
  const org = await withOrg(orgId, (db) => db('organizations').first<{ name: string } | undefined>('name'));
  return org?.name ?? 'Porchlight';
}

localCheckoutRouter.get('/dev/checkout/:id', async (req, res, next) => {
  const found = openSession(req);
  if (!found) return next();
  const { session } = found;
  // Stripe's form encoding arrives as { '0': { price_data: … } }.
  const item = (session._line_items as Record<string, { price_data?: { product_data?: { name?: string } } } | undefined>)['0'];
  res.render('dev/checkout', {
    layout: 'public',
    title: 'Test checkout',
    business: await businessName(session.metadata.org_id),
    description: item?.price_data?.product_data?.name ?? 'Payment',
    amount: formatMoney(session.amount_total, session.currency.toUpperCase(), 'en-US'),
    open: session.status === 'open',
    sessionId: session.id,
    cancelUrl: session.cancel_url,
  });
});

localCheckoutRouter.post('/dev/checkout/:id', async (req, res, next) => {
  const found = openSession(req);
  if (!found) return next();
  const { account, session, standIn } = found;
  if (session.status !== 'open') {
    res.status(409).render('dev/checkout', { layout: 'public', title: 'Test checkout', open: false });
    return;
  }
  // The test card typed (a saved one decides how later autopay charges go); the default card otherwise.
  const typed =
    typeof (req.body as { card?: unknown } | undefined)?.card === 'string' ? (req.body as { card: string }).card.replace(/\D/g, '') : '';
  const { session: completed } = standIn.completeCheckout(account, session.id, typed.length >= 12 ? { card: typed } : {});
  // The same bytes and signature a real Connect event carries, to the real handler.
  const payload = JSON.stringify(standIn.event('checkout.session.completed', completed, account));
  const signature = getStripe().webhooks.generateTestHeaderString({ payload, secret: config.stripe.connectWebhookSecret! });
  const answer = await fetch(`${req.protocol}://${req.get('host')}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  if (!answer.ok) {
    logger.warn({ status: answer.status }, 'local test checkout: the webhook refused the event');
    res.status(502).render('dev/checkout', {
      layout: 'public',
      title: 'Test checkout',
      open: false,
      failed: `The webhook answered ${answer.status}; the payment was not recorded.`,
    });
    return;
  }
  res.redirect(303, completed.success_url);
});
