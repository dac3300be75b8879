// One way to send: from a draft proposal, "Send to customer" makes the portal
// link if needed (within the Free limit), shows the exact message and number,
// and sending is what opens the proposal to the customer.
import { expect } from 'chai';
import type { Actor } from '../../src/db/audit.js';
import { withOrg } from '../../src/db/tenancy.js';
import { parseForm } from '../../src/lib/forms.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { createInvoice } from '../../src/invoices/commands.js';
import { getDb } from '../../src/db/knex.js';
import { createProposal } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { invoiceForm } from '../support/forms.js';
import { csrfFrom, loginAgent } from '../support/http.js';

async function draftProposal(orgId: string, leadId: string, actor: Actor): Promise<{ id: string; number: number }> {
  return withOrg(orgId, (db) =>
    createProposal(
      db,
      parseForm(proposalFormSchema('USD'), {
        lead_id: leadId,
        title: 'Gutter guards',
        items: [{ service: 'Guard', quantity: '10', unit_price: '9.50' }],
      }),
      actor,
    ),
  );
}

describe('Send to customer', () => {
  it('makes the link, shows the exact message and number, and sending opens the draft proposal', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const actor: Actor = { type: 'user', userId: org.userId };
    const lead = await createTestLead(org.orgId, { first_name: 'Maria', phone: '+14155552671' });
    const proposal = await draftProposal(org.orgId, lead.id, actor);
    const agent = await loginAgent(org.email, org.password);

    const shown = await agent.get(`/proposals/${proposal.id}`);
    expect(shown.text).to.contain(`/customers/${lead.id}/send?context=proposal&amp;proposalId=${proposal.id}">Send to customer</a>`);
    const sendPage = `/customers/${lead.id}/send?channel=sms&context=proposal&proposalId=${proposal.id}`;
    const first = await agent.get(sendPage);
    expect(first.text).to.contain('Create Maria’s portal link');
    // The way back is to the proposal the send began from.
    expect(first.text).to.contain(`<a href="/proposals/${proposal.id}">← Back to the proposal</a>`);
    expect(first.text).not.to.contain('Send to +14155552671');

    const made = await agent
      .post(`/customers/${lead.id}/send/link`)
      .type('form')
      .send({ _csrf: csrfFrom(first.text), channel: 'sms', context: 'proposal', proposalId: proposal.id });
    expect(made.status).to.equal(303);
    expect(made.headers.location).to.equal(sendPage);
    const ready = await agent.get(sendPage);
    const link = await withOrg(org.orgId, (db) => db('portal_links').where({ lead_id: lead.id }).select('id'));
    expect(link).to.have.length(1);
    expect(ready.text).to.match(/<pre class="message-text">[^<]*http:\/\/127\.0\.0\.1:3999\/p\/[A-Za-z0-9_-]{43}/);
    expect(ready.text).to.contain('Send to (415) 555-2671');
    // The number itself goes with the form, as stored.
    expect(ready.text).to.contain('name="confirmTo" value="+14155552671"');
    expect(ready.text).to.contain(`proposal #${proposal.number}`);

    const sent = await agent
      .post(`/customers/${lead.id}/send`)
      .type('form')
      .send({
        _csrf: csrfFrom(ready.text),
        channel: 'sms',
        context: 'proposal',
        proposalId: proposal.id,
        confirmTo: '+14155552671',
      });
    expect(sent.status).to.equal(303);
    expect(sent.headers.location).to.match(/^\/messages\/[0-9a-f-]{36}$/);
    const after = await withOrg(org.orgId, async (db) => ({
      proposal: await db('proposals').where({ id: proposal.id }).first<{ status: string }>('status'),
      deliveries: await db('message_deliveries').where({ lead_id: lead.id }).select('id'),
    }));
    expect(after.proposal.status).to.equal('pending');
    expect(after.deliveries).to.have.length(1);
    // The queued job would be picked up by a later test's worker: settle the row so nothing is sent.
    await withOrg(org.orgId, (db) => db('message_deliveries').update({ status: 'failed', last_error: 'test cleanup' }));
    const message = await agent.get(sent.headers.location);
    expect(message.text).to.contain(`proposal #${proposal.number} is now open for the customer`);
    expect(message.text).to.contain('The text to (415) 555-2671 is on its way');
    expect(message.text).not.to.match(/(was|has been) sent/);
  });

  describe('Issue and send (a draft invoice)', () => {
    async function draftInvoiceFor(firstName: string) {
      const org = await createTestOrg();
      const actor: Actor = { type: 'user', userId: org.userId };
      const lead = await createTestLead(org.orgId, { first_name: firstName, phone: '+14155552671' });
      await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, actor));
      const invoice = await withOrg(org.orgId, (db) => createInvoice(db, invoiceForm(lead.id), 'USD', actor));
      const agent = await loginAgent(org.email, org.password);
      const form = { channel: 'sms', context: 'invoice', invoiceId: invoice.id, confirmTo: '+14155552671' };
      const state = () =>
        withOrg(org.orgId, async (db) => ({
          invoice: await db('invoices').where({ id: invoice.id }).first<{ status: string; issued_at: Date | null }>('status', 'issued_at'),
          deliveries: await db('message_deliveries').where({ lead_id: lead.id }).pluck('id'),
          issuedAudits: await db('audit_events').where({ action: 'invoice.issued', subject_id: invoice.id }).pluck('id'),
        }));
      return { org, lead, invoice, agent, form, state };
    }

    it('offers "Issue and send" on a draft invoice; sending issues it and queues the message together', async () => {
      const { org, lead, invoice, agent, form, state } = await draftInvoiceFor('Iris');
      const shown = await agent.get(`/invoices/${invoice.id}`);
      expect(shown.text).to.contain(`/customers/${lead.id}/send?context=invoice&amp;invoiceId=${invoice.id}">Issue and send</a>`);
      const ready = await agent.get(`/customers/${lead.id}/send?channel=sms&context=invoice&invoiceId=${invoice.id}`);
      expect(ready.status).to.equal(200);
      expect(ready.text).to.contain(`Issue invoice #${invoice.number} and send to (415) 555-2671`);
      expect(ready.text).to.contain(`invoice #${invoice.number}`);
      // Looking at the page changes nothing.
      expect((await state()).invoice.status).to.equal('draft');

      const sent = await agent
        .post(`/customers/${lead.id}/send`)
        .type('form')
        .send({ _csrf: csrfFrom(ready.text), ...form });
      expect(sent.status).to.equal(303);
      const after = await state();
      expect(after.invoice.status).to.equal('open');
      expect(after.invoice.issued_at).to.be.instanceOf(Date);
      expect(after.deliveries).to.have.length(1);
      expect(after.issuedAudits).to.have.length(1);
      expect(sent.headers.location).to.equal(`/messages/${after.deliveries[0]}`);
      await withOrg(org.orgId, (db) => db('message_deliveries').update({ status: 'failed', last_error: 'test cleanup' }));
      const message = await agent.get(sent.headers.location);
      expect(message.text).to.contain(`invoice #${invoice.number} is issued and open for the customer to pay`);
      // Issued now: the send page offers a plain send again.
      const again = await agent.get(`/customers/${lead.id}/send?channel=sms&context=invoice&invoiceId=${invoice.id}`);
      expect(again.text).to.contain('Send to (415) 555-2671');
      expect(again.text).not.to.contain('and send to');
    });

    it('refuses a draft that may not be issued (total zero): nothing issued, nothing queued', async () => {
      const { org, lead, invoice, agent, form, state } = await draftInvoiceFor('Zed');
      await withOrg(org.orgId, (db) =>
        db('invoices').where({ id: invoice.id }).update({ total_cents: 0, subtotal_cents: 0, tax_cents: 0 }),
      );
      const page = await agent.get(`/customers/${lead.id}/send?channel=sms&context=invoice&invoiceId=${invoice.id}`);
      expect(page.text).to.contain('total of zero');
      expect(page.text).not.to.contain('and send to');
      const res = await agent
        .post(`/customers/${lead.id}/send`)
        .type('form')
        .send({ _csrf: agent.csrf, ...form });
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('total of zero');
      const after = await state();
      expect(after.invoice.status).to.equal('draft');
      expect(after.deliveries).to.deep.equal([]);
      expect(after.issuedAudits).to.deep.equal([]);
    });

    it('is all or nothing: if the message cannot be stored, the invoice stays a draft', async () => {
      const { lead, agent, form, state } = await draftInvoiceFor('Atom');
      // Make storing this customer's delivery fail after the invoice was issued in the same request.
      const constraint = `test_block_${lead.id.replaceAll('-', '')}`;
      // DDL takes no bind parameters; the id is a uuid made by the factory.
      expect(lead.id).to.match(/^[0-9a-f-]{36}$/);
      await getDb().raw(`alter table message_deliveries add constraint ${constraint} check (lead_id <> '${lead.id}'::uuid) not valid`);
      try {
        const res = await agent
          .post(`/customers/${lead.id}/send`)
          .type('form')
          .send({ _csrf: agent.csrf, ...form });
        expect(res.status).to.equal(500);
      } finally {
        await getDb().raw('alter table message_deliveries drop constraint ??', [constraint]);
      }
      const after = await state();
      expect(after.invoice.status).to.equal('draft');
      expect(after.invoice.issued_at).to.equal(null);
      expect(after.deliveries).to.deep.equal([]);
      expect(after.issuedAudits).to.deep.equal([]);
    });
  });

  it('respects the Free plan’s link limit: no link is made, and the page says why', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const actor: Actor = { type: 'user', userId: org.userId };
    for (let i = 0; i < 10; i += 1) {
      const other = await createTestLead(org.orgId);
      await withOrg(org.orgId, (db) => generatePortalLink(db, other.id, actor));
    }
    const lead = await createTestLead(org.orgId, { first_name: 'Eleventh', phone: '+14155552671' });
    const agent = await loginAgent(org.email, org.password);
    const res = await agent
      .post(`/customers/${lead.id}/send/link`)
      .type('form')
      .send({ _csrf: agent.csrf, channel: 'sms', context: 'general' });
    expect(res.status).to.equal(303);
    const page = await agent.get(res.headers.location);
    expect(page.text).to.match(/flash-error[^>]*>[^<]*10 active/);
    expect(await withOrg(org.orgId, (db) => db('portal_links').where({ lead_id: lead.id }).select('id'))).to.have.length(0);
  });
  it('"Send by email instead" keeps the proposal: sending the email opens it, as the text would have', async () => {
    const org = await createTestOrg({ plan: 'free' });
    const actor: Actor = { type: 'user', userId: org.userId };
    // An email address and no mobile number: the text page can't send and offers email.
    const lead = await createTestLead(org.orgId, { first_name: 'Priya', phone: null, email: 'priya@example.test' });
    const proposal = await draftProposal(org.orgId, lead.id, actor);
    await withOrg(org.orgId, (db) => generatePortalLink(db, lead.id, actor));
    const agent = await loginAgent(org.email, org.password);

    const sms = await agent.get(`/customers/${lead.id}/send?channel=sms&context=proposal&proposalId=${proposal.id}`);
    const href = /<a href="([^"]+)">Send by email instead<\/a>/.exec(sms.text)?.[1].replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
    expect(href).to.equal(`/customers/${lead.id}/send?channel=email&context=proposal&proposalId=${proposal.id}`);
    const email = await agent.get(href!);
    expect(email.status).to.equal(200);
    expect(email.text).to.contain(`proposal #${proposal.number}`);

    const sent = await agent
      .post(`/customers/${lead.id}/send`)
      .type('form')
      .send({
        _csrf: csrfFrom(email.text),
        channel: 'email',
        context: 'proposal',
        proposalId: proposal.id,
        confirmTo: 'priya@example.test',
      });
    expect(sent.status).to.equal(303);
    const status = await withOrg(org.orgId, (db) => db('proposals').where({ id: proposal.id }).first<{ status: string }>('status'));
    expect(status.status).to.equal('pending');
    await withOrg(org.orgId, (db) => db('message_deliveries').update({ status: 'failed', last_error: 'test cleanup' }));
  });
});
