// The dashboard's words: plans and payments pages agree, statuses are the
// product's words, jobs made by an approval are "to schedule", a proposal past
// its valid-until date is called out, destructive actions ask first, and a
// document that can't be edited any more never shows an edit form.
import { expect } from 'chai';
import { withOrg } from '../../src/db/tenancy.js';
import { statusWords } from '../../src/i18n/index.js';
import { jobStatusShown } from '../../src/lib/pagination.js';
import { planAdditions } from '../../src/plans.js';
import { createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent } from '../support/http.js';
import { seedRouteFixtures } from '../support/route-walk.js';

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/\s+/g, ' ');

/** Saves a new proposal for `leadId` through its form (one line, Gutter clean 1 × $150.00); the response is the redirect. */
async function saveProposal(agent: Awaited<ReturnType<typeof loginAgent>>, leadId: string, fields: Record<string, string>) {
  const form = (await agent.get(`/proposals/new?leadId=${leadId}`)).text;
  return agent
    .post('/proposals')
    .type('form')
    .send({
      _csrf: csrfFrom(form),
      lead_id: leadId,
      tax_rate: '0',
      'items[0][service]': 'Gutter clean',
      'items[0][quantity]': '1',
      'items[0][unit_price]': '150',
      ...fields,
    });
}

describe('dashboard copy', () => {
  it('the plans page lists what each plan adds, from src/plans.ts, and counts links as "N active customer links"', async () => {
    expect(planAdditions('starter').map((a) => a.label)).to.include('Customers pay invoices online by card, into your own Stripe account');
    expect(planAdditions('pro').find((a) => a.label === 'Automatic follow-ups of proposals and invoices')?.comingSoon).to.equal(false);
    expect(planAdditions('pro').find((a) => a.label === 'Saved cards and autopay')?.comingSoon).to.equal(false);

    const pro = await createTestOrg({ plan: 'pro' });
    const agent = await loginAgent(pro.email, pro.password);
    const page = text((await agent.get('/settings/billing')).text);
    expect(page).to.contain('0 active customer links (no limit)');
    expect(page).not.to.match(/of unlimited/);
    expect(page).to.contain('Everything in Starter, plus:');
    expect(page).to.contain('Everything in Free, plus:');
    expect(page).to.contain('Saved cards and autopay');
    expect(page).not.to.contain('Saved cards and autopay coming soon');

    const free = await createTestOrg({ plan: 'free' });
    const freeAgent = await loginAgent(free.email, free.password);
    expect(text((await freeAgent.get('/settings/billing')).text)).to.contain('0 of 10 active customer links');
  });

  it('billing and payments never contradict each other about online payment', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const agent = await loginAgent(org.email, org.password);
    const billing = text((await agent.get('/settings/billing')).text);
    const payments = text((await agent.get('/settings/payments')).text);
    expect(payments).to.contain('Not connected');
    expect(billing).not.to.contain('yes, through your connected Stripe account');
    expect(billing).to.contain('included in your plan, but off until you connect Stripe in Payments');
    // Without keys (the test server has none) the payments page explains what to set instead of an error.
    expect(payments).to.contain('What to configure');
    expect(payments).to.contain('STRIPE_SECRET_KEY');
    const connect = await agent.post('/settings/payments/connect').type('form').send({ _csrf: agent.csrf });
    expect(connect.status).to.equal(303);
    expect(text((await agent.get('/settings/payments')).text)).to.contain('Online payments need Stripe keys on the server first');

    await withOrg(org.orgId, (db) => db('organizations').update({ stripe_account_id: 'acct_x', stripe_charges_enabled: true }));
    expect(text((await agent.get('/settings/billing')).text)).to.contain('yes, through your connected Stripe account');
    expect(text((await agent.get('/settings/payments')).text)).to.contain('Ready to accept payments');
  });

  it('statuses read in the product’s words: Paid, To schedule, never "invoice(s)"', async () => {
    expect(statusWords('en', 'succeeded')).to.equal('Paid');
    expect(statusWords('en', 'partially_paid')).to.equal('Partially paid');
    expect(jobStatusShown({ status: 'scheduled', scheduled_at: null })).to.equal('to_schedule');
    expect(jobStatusShown({ status: 'scheduled', scheduled_at: new Date() })).to.equal('scheduled');

    const org = await createTestOrg({ plan: 'starter' });
    const fx = await seedRouteFixtures(org);
    await withOrg(org.orgId, (db) => db('jobs').where({ id: fx.job }).update({ status: 'scheduled', scheduled_at: null }));
    const agent = await loginAgent(org.email, org.password);
    const job = text((await agent.get(`/jobs/${fx.job}`)).text);
    expect(job).to.contain('To schedule');
    expect(job).not.to.match(/\bScheduled\b/);
    const jobs = text((await agent.get('/jobs')).text);
    expect(jobs).to.contain('To schedule');
    expect(jobs).not.to.match(/not scheduled/i);
    const home = (await agent.get('/')).text;
    expect(home).not.to.contain('(s)');
    expect(text(home)).to.contain('1 open invoice');
    const customer = (await agent.get(`/customers/${fx.lead}`)).text;
    expect(customer).not.to.contain('(s)');
    expect(text((await agent.get(`/payments/${fx.payment}`)).text)).not.to.match(/succeeded/i);
  });

  it('the time-zone field is searchable (a text field with the list of zones)', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const agent = await loginAgent(org.email, org.password);
    const html = (await agent.get('/settings/branding')).text;
    expect(html).to.match(/<input id="f-time_zone" name="time_zone" list="time-zones" value="America\/New_York"/);
    expect(html).to.match(/<datalist id="time-zones">[\s\S]*<option value="Europe\/Lisbon">/);
    expect(html).not.to.contain('<select id="f-time_zone"');
  });

  it('revoking a link asks first, on a page that works without script', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    await seedRouteFixtures(org);
    const agent = await loginAgent(org.email, org.password);
    const html = (await agent.get('/settings/portal')).text;
    expect(html).to.match(/<details class="confirm">\s*<summary[^>]*>Revoke…<\/summary>/);
    expect(html).to.match(/Yes, revoke [^<]+’s link<\/button>/);
  });

  it('warns when a proposal is saved with a valid-until date in the past, and on its page', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const fx = await seedRouteFixtures(org);
    const agent = await loginAgent(org.email, org.password);
    const saved = await saveProposal(agent, fx.lead, { title: 'Old price', valid_until: '2020-01-31' });
    expect(saved.status).to.equal(303);
    const shown = text((await agent.get(saved.headers.location)).text);
    expect(shown).to.contain('its valid-until date has passed: the customer sees it as expired');

    const fresh = await saveProposal(agent, fx.lead, { title: 'Current price', valid_until: '2099-01-31' });
    expect(text((await agent.get(fresh.headers.location)).text)).not.to.contain('valid-until date has passed');

    // A pending proposal past its date says so on its page; on Free the customer can't approve online.
    const id = saved.headers.location.split('/').at(-1)!;
    await withOrg(org.orgId, (db) => db('proposals').where({ id }).update({ status: 'pending', sent_at: db.fn.now() }));
    const page = text((await agent.get(`/proposals/${id}`)).text);
    expect(page).to.contain('Its valid-until date has passed');
    expect(page).to.contain('On the Free plan they see it read-only');
    expect(page).not.to.contain('They can approve it in their portal');
  });

  it('an approved proposal and an issued invoice open their page saying why, not an edit form that can only be refused', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const fx = await seedRouteFixtures(org);
    const agent = await loginAgent(org.email, org.password);
    for (const [doc, why] of [
      [`/proposals/${fx.proposal}`, 'is approved and can no longer be edited'],
      [`/invoices/${fx.invoice}`, 'has been issued; only drafts can be edited'],
    ]) {
      const edit = await agent.get(`${doc}/edit`);
      expect(edit.status, doc).to.equal(303);
      expect(edit.headers.location).to.equal(doc);
      const page = text((await agent.get(doc)).text);
      expect(page, doc).to.contain(why);
    }

    // A proposal still open to changes opens its form.
    const saved = await saveProposal(agent, fx.lead, { title: 'Still a draft' });
    const edit = await agent.get(`${saved.headers.location}/edit`);
    expect(edit.status).to.equal(200);
    expect(edit.text).to.contain('Still a draft');
  });

  it("a draft invoice says nothing is owed until it is issued, and what will be, not 'Balance $0.00'", async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const fx = await seedRouteFixtures(org);
    const agent = await loginAgent(org.email, org.password);
    const form = (await agent.get(`/invoices/new?leadId=${fx.lead}`)).text;
    const saved = await agent
      .post('/invoices')
      .type('form')
      .send({
        _csrf: csrfFrom(form),
        lead_id: fx.lead,
        issue_date: '2026-12-01',
        due_date: '2026-12-31',
        tax_rate: '0',
        'items[0][service]': 'Gutter clean',
        'items[0][quantity]': '2',
        'items[0][unit_price]': '205.50',
      });
    expect(saved.status).to.equal(303);
    const page = text((await agent.get(saved.headers.location)).text);
    expect(page).to.contain('Not issued yet: nothing is owed until you issue it. Then $411.00 will be due.');
    expect(page).not.to.contain('Balance $0.00');
  });
});
