// The follow-up pages: the rules settings (Pro; locked on lower plans with the plan
// named), the per-customer pause switch, and "next follow-up" on a document page.
import { expect } from 'chai';
import { getSendQueue } from '../../src/queue/queues.js';
import { withOrg } from '../../src/db/tenancy.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { runFollowupScheduler } from '../../src/messaging/followups.js';
import { createTestLead, createTestOrg, createTestStaff } from '../support/factories.js';
import { csrfFrom, loginAgent } from '../support/http.js';

const FULL_FORM = {
  proposal_not_opened_enabled: 'on',
  proposal_not_opened_days: '4',
  proposal_not_decided_days: '5',
  invoice_due_soon_enabled: 'on',
  invoice_due_soon_days: '2',
  invoice_overdue_1_enabled: 'on',
  invoice_overdue_1_days: '1',
  invoice_overdue_2_days: '7',
  invoice_overdue_3_days: '14',
};

async function savedRules(orgId: string) {
  return withOrg(orgId, (db) =>
    db('followup_rules').orderBy('rule').select<{ rule: string; enabled: boolean; days: number }[]>('rule', 'enabled', 'days'),
  );
}

describe('follow-up pages', () => {
  // Jobs this file enqueues are nobody's here: leave none for a later file's send worker.
  afterEach(() => getSendQueue().drain(true));

  it('a Pro owner saves the rules; a bad number of days is refused with its field named and nothing saved', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get('/settings/followups');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Proposal not opened after');
    expect(page.text).not.to.contain('Part of the Pro plan');

    const bad = await agent
      .post('/settings/followups')
      .type('form')
      .send({ ...FULL_FORM, invoice_due_soon_days: '0', _csrf: csrfFrom(page.text) });
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('at least 1 day');
    expect(bad.text).to.match(/id="f-invoice_due_soon-days"[^>]*aria-invalid="true"/);
    expect(await savedRules(org.orgId)).to.deep.equal([]);

    const ok = await agent
      .post('/settings/followups')
      .type('form')
      .send({ ...FULL_FORM, _csrf: csrfFrom(page.text) });
    expect(ok.status).to.equal(303);
    const rules = await savedRules(org.orgId);
    expect(rules).to.deep.include({ rule: 'proposal_not_opened', enabled: true, days: 4 });
    expect(rules).to.deep.include({ rule: 'proposal_not_decided', enabled: false, days: 5 });
    expect(rules).to.deep.include({ rule: 'invoice_due_soon', enabled: true, days: 2 });
    expect(rules).to.have.length(6);
    const again = await agent.get('/settings/followups');
    expect(again.text).to.match(/name="proposal_not_opened_enabled" checked/);
    expect(again.text).to.match(/name="proposal_not_opened_days" value="4"/);
  });

  it('lower plans see the page locked with the plan named, and a post changes nothing; staff can’t change rules', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get('/settings/followups');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Part of the Pro plan');
    expect(page.text).to.contain('Your plan is Starter.');
    expect(page.text).to.match(/<fieldset disabled/);
    const refused = await agent
      .post('/settings/followups')
      .type('form')
      .send({ ...FULL_FORM, _csrf: csrfFrom(page.text) });
    expect(refused.status).to.equal(403);
    expect(refused.text).to.contain('Automatic follow-ups are part of the Pro plan; your plan is Starter.');
    expect(await savedRules(org.orgId)).to.deep.equal([]);
    expect((await agent.get('/settings')).text).to.match(
      /Automatic follow-ups<\/strong><\/a>\s*<p class="muted">[^<]*<\/p>\s*<p class="badge">Pro<\/p>/,
    );

    const pro = await createTestOrg({ plan: 'pro' });
    const staff = await createTestStaff(pro.orgId);
    const staffAgent = await loginAgent(staff.email, staff.password);
    const staffPage = await staffAgent.get('/settings/followups');
    const staffPost = await staffAgent
      .post('/settings/followups')
      .type('form')
      .send({ ...FULL_FORM, _csrf: csrfFrom(staffPage.text) });
    expect(staffPost.status).to.equal(403);
    expect(await savedRules(pro.orgId)).to.deep.equal([]);
  });

  it('a customer whose link expired: the invoice page says the follow-up is on hold until a new link, then shows it again', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ana', email: 'ana.expired@example.test' });
    const agent = await loginAgent(org.email, org.password);
    const settings = await agent.get('/settings/followups');
    await agent
      .post('/settings/followups')
      .type('form')
      .send({ ...FULL_FORM, _csrf: csrfFrom(settings.text) });
    const actor = { type: 'user' as const, userId: org.userId };
    const invoiceId = await withOrg(org.orgId, async (db) => {
      await generatePortalLink(db, lead.id, actor);
      await db('portal_links')
        .where({ lead_id: lead.id })
        .update({ expires_at: new Date(Date.now() - 60_000) });
      const today = new Date().toISOString().slice(0, 10);
      const [row] = await db('invoices')
        .insert({
          org_id: org.orgId,
          lead_id: lead.id,
          number: 1,
          status: 'open',
          currency: 'USD',
          issue_date: today,
          due_date: new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10),
          subtotal_cents: 10_000,
          total_cents: 10_000,
          issued_at: new Date(),
        })
        .returning<{ id: string }[]>('id');
      return row.id;
    });
    const held = await agent.get(`/invoices/${invoiceId}`);
    expect(held.text).to.contain('Automatic follow-up on hold</strong> (reminder that the invoice is due soon)');
    expect(held.text).to.contain(`href="/customers/${lead.id}#portal-panel-heading">Make a new link</a>`);
    expect(held.text).not.to.contain('Next automatic follow-up:');

    await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, actor));
    const again = await agent.get(`/invoices/${invoiceId}`);
    expect(again.text).to.contain('Next automatic follow-up:</strong> reminder that the invoice is due soon');
  });

  it('Pause follow-ups on the customer page stops them; the invoice page shows the next follow-up, then “paused”', async () => {
    const org = await createTestOrg({ plan: 'pro' });
    const lead = await createTestLead(org.orgId, { first_name: 'Ana', email: 'ana@example.test' });
    const agent = await loginAgent(org.email, org.password);
    const settings = await agent.get('/settings/followups');
    await agent
      .post('/settings/followups')
      .type('form')
      .send({ ...FULL_FORM, _csrf: csrfFrom(settings.text) });
    const invoiceId = await withOrg(org.orgId, async (db) => {
      await generatePortalLink(db, lead.id, { type: 'user', userId: org.userId });
      const today = new Date().toISOString().slice(0, 10);
      const [row] = await db('invoices')
        .insert({
          org_id: org.orgId,
          lead_id: lead.id,
          number: 1,
          status: 'open',
          currency: 'USD',
          issue_date: today,
          due_date: new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10),
          subtotal_cents: 10_000,
          total_cents: 10_000,
          issued_at: new Date(),
        })
        .returning<{ id: string }[]>('id');
      return row.id;
    });
    const invoicePage = await agent.get(`/invoices/${invoiceId}`);
    expect(invoicePage.text).to.contain('Next automatic follow-up:</strong> reminder that the invoice is due soon');

    const customerPage = await agent.get(`/customers/${lead.id}`);
    expect(customerPage.text).to.contain('Pause follow-ups');
    const bad = await agent
      .post(`/customers/${lead.id}/followups`)
      .type('form')
      .send({ paused: 'maybe', _csrf: csrfFrom(customerPage.text) });
    expect(bad.status).to.equal(422);
    const paused = await agent
      .post(`/customers/${lead.id}/followups`)
      .type('form')
      .send({ paused: '1', _csrf: csrfFrom(customerPage.text) });
    expect(paused.status).to.equal(303);
    const row = await withOrg(org.orgId, (db) =>
      db('leads').where({ id: lead.id }).first<{ followups_paused_at: Date | null }>('followups_paused_at'),
    );
    expect(row.followups_paused_at).to.be.instanceOf(Date);
    expect((await agent.get(`/invoices/${invoiceId}`)).text).to.contain('Automatic follow-ups are paused</strong> for this customer');
    expect((await agent.get(`/customers/${lead.id}`)).text).to.contain('Resume follow-ups');

    // Due now (20 days ahead, 2-day rule → due in 18 days): the scheduler sends nothing while paused.
    const later = new Date(Date.now() + 18.6 * 86_400_000);
    later.setUTCHours(17, 0, 0, 0);
    await runFollowupScheduler(later);
    const sends = await withOrg(org.orgId, (db) => db('followup_sends').select('id'));
    expect(sends).to.have.length(0);

    await agent
      .post(`/customers/${lead.id}/followups`)
      .type('form')
      .send({ paused: '0', _csrf: csrfFrom(customerPage.text) });
    await runFollowupScheduler(later);
    expect(await withOrg(org.orgId, (db) => db('followup_sends').select('rule'))).to.deep.equal([{ rule: 'invoice_due_soon' }]);
  });
});
