import crypto from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { resetStripe } from '../../src/stripe/client.js';
import { loginAgent, testApp, type Agent } from '../support/http.js';
import { createTestLead, createTestOrg, createTestStaff, type TestOrg } from '../support/factories.js';
import type { AuditEventRecord, OrgRecord, PortalLinkRecord, StripeEventRecord } from '../support/rows.js';
import { signedStripeEvent, stripeError, stripeEvent, StripeStandIn, webhookOutcome } from '../support/stripe-standin.js';

type LoggedIn = Agent & { csrf: string };

const WEBHOOK_SECRET = 'whsec_test_platform_secret';
const PRICE_STARTER = 'price_starter_test';
const PRICE_PRO = 'price_pro_test';

async function orgRow(orgId: string) {
  return getDb()('organizations').where({ id: orgId }).first<OrgRecord>();
}

async function eventRows(id: string) {
  return getDb()('stripe_events').where({ id }).select<StripeEventRecord[]>();
}

function postEvent(event: Record<string, unknown>, secret = WEBHOOK_SECRET) {
  const { payload, signature } = signedStripeEvent(event, secret);
  return supertest(testApp())
    .post('/webhooks/stripe/platform')
    .set('Content-Type', 'application/json')
    .set('Stripe-Signature', signature)
    .send(payload);
}

describe('settings: plan and billing (Stripe subscriptions)', () => {
  const stripe = new StripeStandIn();
  const saved = { ...config.stripe };
  let owner: TestOrg;
  let agent: LoggedIn;

  before(async () => {
    await stripe.start();
  });

  beforeEach(async () => {
    Object.assign(config.stripe, {
      apiUrl: stripe.url,
      secretKey: 'sk_test_standin',
      webhookSecret: WEBHOOK_SECRET,
      priceStarter: PRICE_STARTER,
      pricePro: PRICE_PRO,
    });
    resetStripe();
    stripe.requests.length = 0;
    owner = await createTestOrg();
    agent = await loginAgent(owner.email, owner.password);
  });

  after(async () => {
    Object.assign(config.stripe, saved);
    resetStripe();
    await stripe.stop();
  });

  /** The org as if it had been through checkout: a customer and a subscription in Stripe. */
  async function subscribedOrg(status: 'active' | 'canceled' = 'active', price = PRICE_STARTER) {
    const customer = `cus_${crypto.randomBytes(8).toString('hex')}`;
    await getDb()('organizations').where({ id: owner.orgId }).update({ stripe_customer_id: customer });
    const subscription = stripe.putSubscription({ customer, status, price, metadata: { org_id: owner.orgId } });
    return { customer, subscription };
  }

  describe('billing page', () => {
    it('shows the current plan and its limits', async () => {
      await createTestLead(owner.orgId);
      const res = await agent.get('/settings/billing');
      expect(res.status).to.equal(200);
      expect(res.text).to.contain('Your plan: Free');
      expect(res.text).to.match(/<strong>0<\/strong> of 10 active customer links/);
      expect(res.text).to.contain('Upgrade to Starter');
      expect(res.text).to.contain('Upgrade to Pro');
      expect(res.text).to.contain('$9.90');
      expect(res.text).to.contain('$49.00');
    });

    it('says which plan price is not configured, where its Upgrade button would be missing', async () => {
      config.stripe.pricePro = undefined;
      const page = await agent.get('/settings/billing');
      expect(page.text).to.contain('Online upgrades aren’t set up').and.contain('<code>STRIPE_PRICE_PRO</code>');
      expect(page.text).to.contain('Upgrade to Starter').and.not.contain('Upgrade to Pro');
      // In production the business is told plan changes aren't available online, not the server's setting names.
      const saved = config.isProduction;
      Object.assign(config, { isProduction: true });
      try {
        const live = await agent.get('/settings/billing');
        expect(live.text).to.contain('Online upgrades aren’t set up').and.contain('Changing plans online isn’t available yet.');
        expect(live.text).to.not.contain('STRIPE_PRICE_PRO').and.not.contain('/webhooks/stripe/platform');
      } finally {
        Object.assign(config, { isProduction: saved });
      }
      config.stripe.pricePro = PRICE_PRO;
      const ready = await agent.get('/settings/billing');
      expect(ready.text).not.to.contain('Online upgrades aren’t set up');
    });

    it('says what to configure when STRIPE_SECRET_KEY is not set, and starts no checkout', async () => {
      config.stripe.secretKey = undefined;
      resetStripe();
      const page = await agent.get('/settings/billing');
      expect(page.status).to.equal(200);
      expect(page.text).to.contain('Online upgrades aren’t set up');
      expect(page.text).to.contain('STRIPE_SECRET_KEY');
      const res = await agent
        .post('/settings/billing/checkout')
        .type('form')
        .send({ plan: 'starter', attempt: crypto.randomUUID(), _csrf: agent.csrf });
      expect(res.status).to.equal(409);
      expect(stripe.requests).to.have.length(0);
      expect((await orgRow(owner.orgId)).stripe_customer_id).to.equal(null);
    });
  });

  describe('upgrade through Stripe Checkout', () => {
    it('creates the customer once, then a subscription-mode Checkout Session with the configured price', async () => {
      const attempt = crypto.randomUUID();
      const res = await agent.post('/settings/billing/checkout').type('form').send({ plan: 'starter', attempt, _csrf: agent.csrf });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.match(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);

      const [customerReq] = stripe.requestsTo('POST', '/v1/customers');
      expect(customerReq.idempotencyKey).to.equal(`platform-customer-${owner.orgId}`);
      expect(customerReq.body).to.deep.include({ email: owner.email, metadata: { org_id: owner.orgId } });
      const org = await orgRow(owner.orgId);
      expect(org.stripe_customer_id).to.match(/^cus_/);

      const [sessionReq] = stripe.requestsTo('POST', '/v1/checkout/sessions');
      expect(sessionReq.body).to.deep.include({ mode: 'subscription', customer: org.stripe_customer_id, client_reference_id: owner.orgId });
      expect(sessionReq.body.line_items).to.deep.equal([{ price: PRICE_STARTER, quantity: '1' }]);
      expect(sessionReq.body.subscription_data).to.deep.equal({ metadata: { org_id: owner.orgId, plan: 'starter' } });
      expect(sessionReq.idempotencyKey).to.equal(`platform-checkout-${owner.orgId}-starter-${attempt}`);
      expect(sessionReq.stripeAccount).to.equal(undefined); // the platform's own account, not a connected one

      // A double submit of the same form is the same session; a later attempt reuses the customer.
      const again = await agent.post('/settings/billing/checkout').type('form').send({ plan: 'starter', attempt, _csrf: agent.csrf });
      expect(again.headers.location).to.equal(res.headers.location);
      const pro = await agent
        .post('/settings/billing/checkout')
        .type('form')
        .send({ plan: 'pro', attempt: crypto.randomUUID(), _csrf: agent.csrf });
      expect(pro.status).to.equal(303);
      expect(stripe.requestsTo('POST', '/v1/customers')).to.have.length(1);
      expect(stripe.requestsTo('POST', '/v1/checkout/sessions').at(-1)!.body.line_items).to.deep.equal([
        { price: PRICE_PRO, quantity: '1' },
      ]);
      // The plan changes only when Stripe says so, not on the redirect.
      expect((await orgRow(owner.orgId)).plan).to.equal('free');
    });

    it('refuses an unknown plan or a missing attempt id without calling Stripe', async () => {
      for (const body of [
        { plan: 'enterprise', attempt: crypto.randomUUID() },
        { plan: 'free', attempt: crypto.randomUUID() },
        { plan: 'pro' },
      ]) {
        const res = await agent
          .post('/settings/billing/checkout')
          .type('form')
          .send({ ...body, _csrf: agent.csrf });
        expect(res.status).to.equal(422);
      }
      expect(stripe.requests).to.have.length(0);
    });

    it('sends a paying org to the billing portal instead of a second subscription', async () => {
      const { subscription } = await subscribedOrg();
      expect((await postEvent(stripeEvent('customer.subscription.created', subscription))).status).to.equal(200);
      const res = await agent
        .post('/settings/billing/checkout')
        .type('form')
        .send({ plan: 'pro', attempt: crypto.randomUUID(), _csrf: agent.csrf });
      expect(res.status).to.equal(409);
      expect(res.text).to.contain('Manage subscription');
      expect(stripe.requestsTo('POST', '/v1/checkout/sessions')).to.have.length(0);
    });

    it('opens Stripe’s billing portal for the org’s customer', async () => {
      const { customer } = await subscribedOrg();
      const res = await agent.post('/settings/billing/portal').type('form').send({ _csrf: agent.csrf });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.match(/^https:\/\/billing\.stripe\.com\/p\/session\//);
      const [req] = stripe.requestsTo('POST', '/v1/billing_portal/sessions');
      expect(req.body).to.deep.include({ customer, return_url: `${config.publicUrl}/settings/billing` });
    });

    it('has no billing portal before there is a customer', async () => {
      const res = await agent.post('/settings/billing/portal').type('form').send({ _csrf: agent.csrf });
      expect(res.status).to.equal(409);
      expect(stripe.requests).to.have.length(0);
    });
  });

  describe('subscription events at /webhooks/stripe/platform', () => {
    it('sets the plan from created, updated and deleted events', async () => {
      const { customer, subscription } = await subscribedOrg('active', PRICE_STARTER);
      expect((await postEvent(stripeEvent('customer.subscription.created', subscription))).body).to.deep.equal({
        received: true,
        outcome: 'processed',
      });
      let org = await orgRow(owner.orgId);
      expect(org).to.include({ plan: 'starter', subscription_status: 'active', stripe_subscription_id: subscription.id });

      stripe.putSubscription({ id: subscription.id, customer, status: 'active', price: PRICE_PRO });
      await postEvent(stripeEvent('customer.subscription.updated', stripe.subscriptions.get(subscription.id)!));
      expect((await orgRow(owner.orgId)).plan).to.equal('pro');

      stripe.putSubscription({ id: subscription.id, customer, status: 'canceled', price: PRICE_PRO });
      await postEvent(stripeEvent('customer.subscription.deleted', stripe.subscriptions.get(subscription.id)!));
      org = await orgRow(owner.orgId);
      expect(org).to.include({ plan: 'free', subscription_status: 'canceled' });

      const audits = await getDb()('audit_events')
        .where({ org_id: owner.orgId, action: 'billing.subscription_updated' })
        .orderBy('id')
        .select<AuditEventRecord[]>();
      expect(audits.map((a) => a.data.to_plan)).to.deep.equal(['starter', 'pro', 'free']);
      expect(audits.every((a) => a.actor_type === 'stripe')).to.equal(true);
    });

    it('processes each event id once', async () => {
      const { subscription } = await subscribedOrg();
      const event = stripeEvent('customer.subscription.created', subscription);
      expect(webhookOutcome(await postEvent(event))).to.equal('processed');
      // Someone changes the plan by hand; a replay of the old event must not undo it.
      await getDb()('organizations').where({ id: owner.orgId }).update({ plan: 'pro' });
      const replay = await postEvent(event);
      expect(replay.status).to.equal(200);
      expect(webhookOutcome(replay)).to.equal('duplicate');
      expect((await orgRow(owner.orgId)).plan).to.equal('pro');
      const rows = await eventRows(event.id);
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ org_id: owner.orgId, type: 'customer.subscription.created' });
      expect(rows[0].processed_at).to.be.an.instanceOf(Date);
    });

    it('trusts Stripe’s current state over an out-of-date event payload', async () => {
      const { customer, subscription } = await subscribedOrg('active', PRICE_STARTER);
      const stale = { ...subscription };
      stripe.putSubscription({ id: subscription.id, customer, status: 'canceled', price: PRICE_STARTER });
      await postEvent(stripeEvent('customer.subscription.updated', stale));
      expect(await orgRow(owner.orgId)).to.include({ plan: 'free', subscription_status: 'canceled' });
    });

    it('upgrades on checkout.session.completed in subscription mode, finding the org by client_reference_id', async () => {
      const customer = `cus_${crypto.randomBytes(8).toString('hex')}`;
      const subscription = stripe.putSubscription({ customer, status: 'active', price: PRICE_PRO });
      const session = {
        id: 'cs_test_done',
        object: 'checkout.session',
        mode: 'subscription',
        customer,
        subscription: subscription.id,
        client_reference_id: owner.orgId,
        metadata: {},
      };
      expect((await postEvent(stripeEvent('checkout.session.completed', session))).status).to.equal(200);
      expect(await orgRow(owner.orgId)).to.include({ plan: 'pro', stripe_customer_id: customer, stripe_subscription_id: subscription.id });
    });

    it('does not let metadata point an event at an org that has another customer', async () => {
      const { customer } = await subscribedOrg();
      const stranger = `cus_${crypto.randomBytes(8).toString('hex')}`;
      const subscription = stripe.putSubscription({
        customer: stranger,
        status: 'active',
        price: PRICE_PRO,
        metadata: { org_id: owner.orgId },
      });
      const res = await postEvent(stripeEvent('customer.subscription.created', subscription));
      expect(webhookOutcome(res)).to.equal('ignored');
      expect(await orgRow(owner.orgId)).to.include({ plan: 'free', stripe_customer_id: customer });
    });

    it('keeps existing portal links when a downgrade to Free leaves 12 active links', async () => {
      const { customer, subscription } = await subscribedOrg('active', PRICE_STARTER);
      await postEvent(stripeEvent('customer.subscription.created', subscription));
      expect((await orgRow(owner.orgId)).plan).to.equal('starter');
      const hashes: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        const lead = await createTestLead(owner.orgId, { first_name: `Customer${i}` });
        const hash = crypto.randomBytes(32).toString('hex');
        hashes.push(hash);
        await getDb()('portal_links').insert({ org_id: owner.orgId, lead_id: lead.id, token_sha256: hash, token_ciphertext: 'x' });
      }
      stripe.putSubscription({ id: subscription.id, customer, status: 'canceled', price: PRICE_STARTER });
      const res = await postEvent(stripeEvent('customer.subscription.deleted', stripe.subscriptions.get(subscription.id)!));
      expect(res.status).to.equal(200);
      expect((await orgRow(owner.orgId)).plan).to.equal('free');
      const links = await getDb()('portal_links').where({ org_id: owner.orgId }).select<PortalLinkRecord[]>();
      expect(links).to.have.length(12);
      expect(links.every((l) => l.revoked_at === null)).to.equal(true);
      expect(links.map((l) => l.token_sha256).sort()).to.deep.equal([...hashes].sort());
      // Each link still resolves through the portal's lookup.
      for (const hash of hashes) {
        const { rows } = await getDb().raw<{ rows: unknown[] }>('select * from portal_link_by_token_hash(?)', [hash]);
        expect(rows).to.have.length(1);
      }
      const page = await agent.get('/settings/billing');
      expect(page.text).to.match(/<strong>12<\/strong> of 10 active customer links/);
      expect(page.text).to.contain('Links already sent keep working');
    });

    it('answers 400 without a signature and 401 with a bad one, changing nothing', async () => {
      const { subscription } = await subscribedOrg();
      const event = stripeEvent('customer.subscription.created', subscription);
      const payload = JSON.stringify(event);
      const missing = await supertest(testApp()).post('/webhooks/stripe/platform').set('Content-Type', 'application/json').send(payload);
      expect(missing.status).to.equal(400);
      const wrongSecret = await postEvent(event, 'whsec_someone_else');
      expect(wrongSecret.status).to.equal(401);
      const { signature } = signedStripeEvent(event, WEBHOOK_SECRET);
      const tampered = await supertest(testApp())
        .post('/webhooks/stripe/platform')
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', signature)
        .send(payload.replace(owner.orgId, crypto.randomUUID()));
      expect(tampered.status).to.equal(401);
      expect(await eventRows(event.id)).to.have.length(0);
      expect((await orgRow(owner.orgId)).plan).to.equal('free');
      expect(stripe.requests).to.have.length(0);
    });

    it('answers 401 to a signature dated more than 5 minutes in the future, changing nothing', async () => {
      const { subscription } = await subscribedOrg();
      const event = stripeEvent('customer.subscription.created', subscription);
      const { payload, signature } = signedStripeEvent(event, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) + 6 * 60);
      const res = await supertest(testApp())
        .post('/webhooks/stripe/platform')
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', signature)
        .send(payload);
      expect(res.status).to.equal(401);
      expect(await eventRows(event.id)).to.have.length(0);
      expect((await orgRow(owner.orgId)).plan).to.equal('free');
    });

    it('acknowledges an event type it does not handle (200) and records nothing', async () => {
      const event = stripeEvent('invoice.paid', { id: 'in_123', object: 'invoice' });
      const res = await postEvent(event);
      expect(res.status).to.equal(200);
      expect(webhookOutcome(res)).to.equal('ignored');
      expect(await eventRows(event.id)).to.have.length(0);
    });

    it('answers 5xx when handling fails, records nothing, and succeeds when Stripe retries', async () => {
      const { subscription } = await subscribedOrg();
      const event = stripeEvent('customer.subscription.created', subscription);
      let failing = true;
      stripe.route('GET', '/v1/subscriptions/:id', (_req, params) =>
        failing ? stripeError(500, 'stand-in outage', 'api_error', 'api_error') : { body: stripe.subscriptions.get(params.id) },
      );
      const first = await postEvent(event);
      expect(first.status).to.equal(500);
      expect(await eventRows(event.id)).to.have.length(0);
      expect((await orgRow(owner.orgId)).plan).to.equal('free');
      failing = false;
      const retry = await postEvent(event);
      expect(retry.status).to.equal(200);
      expect((await orgRow(owner.orgId)).plan).to.equal('starter');
    });
  });

  describe('role checks', () => {
    it('answers 403 to staff on every billing route and calls Stripe for none', async () => {
      await subscribedOrg();
      const staff = await createTestStaff(owner.orgId);
      const staffAgent = await loginAgent(staff.email, staff.password);
      const before = await orgRow(owner.orgId);
      expect((await staffAgent.get('/settings/billing')).status).to.equal(403);
      const checkout = await staffAgent
        .post('/settings/billing/checkout')
        .type('form')
        .send({ plan: 'pro', attempt: crypto.randomUUID(), _csrf: staffAgent.csrf });
      expect(checkout.status).to.equal(403);
      const portal = await staffAgent.post('/settings/billing/portal').type('form').send({ _csrf: staffAgent.csrf });
      expect(portal.status).to.equal(403);
      expect(stripe.requests).to.have.length(0);
      expect(await orgRow(owner.orgId)).to.deep.equal(before);
    });
  });
});
