import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { createTestOrg, createTestStaff } from '../support/factories.js';
import { loginAgent } from '../support/http.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { deliver, startStandIn, stopStandIn } from './stripe-fixtures.js';

async function orgStripe(orgId: string) {
  return withOrg(orgId, (db) =>
    db('organizations').first<{ stripe_account_id: string | null; stripe_charges_enabled: boolean; stripe_details_submitted: boolean }>(
      'stripe_account_id',
      'stripe_charges_enabled',
      'stripe_details_submitted',
    ),
  );
}

describe('Settings → Payments (Stripe Connect onboarding)', () => {
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  it('walks from not connected to onboarding to ready; the account is created once', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get('/settings/payments');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Not connected');
    expect(page.text).to.contain('Connect Stripe');

    const first = await agent.post('/settings/payments/connect').type('form').send({ _csrf: agent.csrf });
    expect(first.status).to.equal(303);
    expect(first.headers.location).to.match(/^https:\/\/connect\.stripe\.test\/setup\//);
    const stored = await orgStripe(org.orgId);
    expect(stored.stripe_account_id).to.match(/^acct_/);

    const creates = standIn.requestsTo('POST', '/v1/accounts').filter((r) => r.path === '/v1/accounts');
    const mine = creates.filter((r) => r.idempotencyKey === `acct:${org.orgId}`);
    expect(mine).to.have.length(1);
    expect(mine[0].params.controller).to.deep.equal({
      stripe_dashboard: { type: 'full' },
      fees: { payer: 'account' },
      losses: { payments: 'stripe' },
    });
    const link = standIn.requestsTo('POST', '/v1/account_links').at(-1)!;
    expect(link.params).to.deep.include({ account: stored.stripe_account_id, type: 'account_onboarding' });
    expect(String(link.params.refresh_url)).to.match(/\/settings\/payments\/connect\/refresh$/);
    expect(String(link.params.return_url)).to.match(/\/settings\/payments\/connect\/return$/);

    // Clicked again: the same account, a new link.
    const second = await agent.post('/settings/payments/connect').type('form').send({ _csrf: agent.csrf });
    expect(second.status).to.equal(303);
    expect(second.headers.location).not.to.equal(first.headers.location);
    expect((await orgStripe(org.orgId)).stripe_account_id).to.equal(stored.stripe_account_id);
    expect(standIn.requestsTo('POST', '/v1/accounts').filter((r) => r.idempotencyKey === `acct:${org.orgId}`)).to.have.length(1);

    // The link expired or was used: refresh_url makes a fresh one.
    const refreshed = await agent.get('/settings/payments/connect/refresh');
    expect(refreshed.status).to.equal(303);
    expect(refreshed.headers.location).to.match(/^https:\/\/connect\.stripe\.test\/setup\//);
    expect(refreshed.headers.location).not.to.equal(second.headers.location);

    // Back without finishing: still incomplete.
    const early = await agent.get('/settings/payments/connect/return');
    expect(early.status).to.equal(303);
    expect((await agent.get('/settings/payments')).text).to.contain('Onboarding incomplete');

    // Finished at Stripe: the return re-reads the account.
    standIn.setAccountStatus(stored.stripe_account_id!, { charges_enabled: true, details_submitted: true });
    const done = await agent.get('/settings/payments/connect/return');
    expect(done.status).to.equal(303);
    expect(await orgStripe(org.orgId)).to.deep.include({ stripe_charges_enabled: true, stripe_details_submitted: true });
    const ready = await agent.get('/settings/payments');
    expect(ready.text).to.contain('Ready to accept payments');

    // Stripe disables charges later: account.updated brings the page back to incomplete.
    standIn.setAccountStatus(stored.stripe_account_id!, { charges_enabled: false, details_submitted: true });
    const event = standIn.event('account.updated', standIn.accounts.get(stored.stripe_account_id!), stored.stripe_account_id!);
    expect((await deliver(event)).status).to.equal(200);
    expect((await agent.get('/settings/payments')).text).to.contain('Onboarding incomplete');

    const audit = await withOrg(org.orgId, (db) =>
      db('audit_events')
        .whereIn('action', ['stripe.account_created', 'stripe.onboarding_started', 'stripe.onboarding_resumed', 'stripe.account_updated'])
        .select('action'),
    );
    expect(audit.map((a: { action: string }) => a.action)).to.include.members([
      'stripe.account_created',
      'stripe.onboarding_started',
      'stripe.onboarding_resumed',
      'stripe.account_updated',
    ]);
  });

  it('two clicks at once still create one account', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const agent = await loginAgent(org.email, org.password);
    const [a, b] = await Promise.all([
      agent.post('/settings/payments/connect').type('form').send({ _csrf: agent.csrf }),
      agent.post('/settings/payments/connect').type('form').send({ _csrf: agent.csrf }),
    ]);
    expect([a.status, b.status]).to.deep.equal([303, 303]);
    const creates = standIn.requestsTo('POST', '/v1/accounts').filter((r) => r.idempotencyKey === `acct:${org.orgId}`);
    expect(creates).to.have.length(1);
    const accounts = [...standIn.accounts.values()].filter((acct) => acct.metadata.org_id === org.orgId);
    expect(accounts).to.have.length(1);
  });

  it('only the owner may connect; staff see the page but get 403 on the actions', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const staff = await createTestStaff(org.orgId);
    const agent = await loginAgent(staff.email, staff.password);
    const page = await agent.get('/settings/payments');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Only the account owner can connect Stripe');
    const before = standIn.requestsTo('POST', '/v1/accounts').length;
    const res = await agent.post('/settings/payments/connect').type('form').send({ _csrf: agent.csrf });
    expect(res.status).to.equal(403);
    expect((await agent.get('/settings/payments/connect/refresh')).status).to.equal(403);
    expect((await agent.get('/settings/payments/connect/return')).status).to.equal(403);
    expect(standIn.requestsTo('POST', '/v1/accounts').length).to.equal(before);
    expect((await orgStripe(org.orgId)).stripe_account_id).to.equal(null);
  });

  it('refuses a connect POST without the CSRF token', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const agent = await loginAgent(org.email, org.password);
    const res = await agent.post('/settings/payments/connect').type('form').send({});
    expect(res.status).to.equal(403);
    expect((await orgStripe(org.orgId)).stripe_account_id).to.equal(null);
  });
});
