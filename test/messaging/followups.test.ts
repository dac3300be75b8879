// Issue #15 point 5: the follow-up scheduler. Each rule's due and not-due cases,
// stop when decided or paid, paused customers, plan gating, quiet hours in the
// org's time zone across a DST change, one message per customer per day, and a
// second run at the same time storing nothing.
import { expect } from 'chai';
import supertest from 'supertest';
import { getSendQueue } from '../../src/queue/queues.js';
import { withOrg } from '../../src/db/tenancy.js';
import { nextFollowups } from '../../src/db/sql/followups.js';
import { FOLLOWUP_RULES, type FollowupRule } from '../../src/lib/followup-rules.js';
import { runFollowupScheduler, saveFollowupRules } from '../../src/messaging/followups.js';
import { leadDeliveries } from '../../src/messaging/queries.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { markRevisionSent } from '../../src/proposals/revisions.js';
import type { PlanId } from '../../src/plans.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';
import { testApp } from '../support/http.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { activeLinkDetails } from '../../src/portal-links/queries.js';

const DAY = 86_400_000;

interface Org extends TestOrg {
  numbers: number;
}

async function followupOrg(
  plan: PlanId = 'pro',
  timeZone = 'America/New_York',
  enabled: FollowupRule[] = [...FOLLOWUP_RULES],
): Promise<Org> {
  const org = await createTestOrg({ plan });
  await withOrg(org.orgId, async (db) => {
    await db('organizations').where({ id: org.orgId }).update({ time_zone: timeZone });
    await saveFollowupRules(
      db,
      FOLLOWUP_RULES.map((rule) => ({
        rule,
        enabled: enabled.includes(rule),
        days: {
          proposal_not_opened: 3,
          proposal_not_decided: 5,
          invoice_due_soon: 3,
          invoice_overdue_1: 1,
          invoice_overdue_2: 7,
          invoice_overdue_3: 14,
        }[rule],
      })),
      { type: 'user', userId: org.userId },
    );
  });
  return { ...org, numbers: 0 };
}

async function customer(org: Org, attrs: { email?: string | null; phone?: string | null; viewedAt?: Date } = {}): Promise<string> {
  const lead = await createTestLead(org.orgId, {
    first_name: 'Ana',
    email: attrs.email === undefined ? `ana${Math.random().toString(36).slice(2, 8)}@example.test` : attrs.email,
    phone: attrs.phone ?? null,
  });
  await withOrg(org.orgId, async (db) => {
    await generatePortalLink(db, lead.id, { type: 'user', userId: org.userId });
    if (attrs.viewedAt) await db('portal_links').where({ lead_id: lead.id }).update({ last_viewed_at: attrs.viewedAt, view_count: 1 });
  });
  return lead.id;
}

async function proposal(org: Org, leadId: string, sentAt: Date, status = 'pending', viewedAt: Date | null = null): Promise<string> {
  org.numbers += 1;
  return withOrg(org.orgId, async (db) => {
    const [row] = await db('proposals')
      .insert({
        org_id: org.orgId,
        lead_id: leadId,
        number: org.numbers,
        title: 'Gutter guards',
        status,
        sent_at: sentAt,
        // when portal_page() first served this proposal to the customer
        first_viewed_at: viewedAt,
        approved_at: status === 'approved' ? sentAt : null,
        approval_source: status === 'approved' ? 'staff' : null,
        subtotal_cents: 50_000,
        total_cents: 50_000,
      })
      .returning<{ id: string }[]>('id');
    return row.id;
  });
}

async function invoice(org: Org, leadId: string, dueDate: string, paid = false): Promise<string> {
  org.numbers += 1;
  return withOrg(org.orgId, async (db) => {
    const [row] = await db('invoices')
      .insert({
        org_id: org.orgId,
        lead_id: leadId,
        number: org.numbers,
        status: paid ? 'paid' : 'open',
        currency: 'USD',
        issue_date: '2026-01-01',
        due_date: dueDate,
        subtotal_cents: 30_000,
        total_cents: 30_000,
        amount_paid_cents: paid ? 30_000 : 0,
        issued_at: new Date('2026-01-01T12:00:00Z'),
      })
      .returning<{ id: string }[]>('id');
    return row.id;
  });
}

/** Follow-ups stored for this org: document id → rule. */
async function sent(org: Org): Promise<Map<string, string>> {
  const rows = await withOrg(org.orgId, (db) =>
    db('followup_sends').select<{ document_id: string; rule: string }[]>('document_id', 'rule'),
  );
  return new Map(rows.map((r) => [r.document_id, r.rule]));
}

/** An email stored as sent under this customer at `at` (a message by hand, a notice to the business…). */
async function emailSentAt(org: Org, leadId: string, at: Date, row: { to_address: string; body_text: string; purpose?: string }) {
  await withOrg(org.orgId, (db) =>
    db('message_deliveries').insert({
      org_id: org.orgId,
      lead_id: leadId,
      channel: 'email',
      status: 'sent',
      created_at: at,
      ...row,
    }),
  );
}

const day = (base: string, offset: number) => new Date(Date.parse(`${base}T00:00:00Z`) + offset * DAY).toISOString().slice(0, 10);

describe('automatic follow-ups: the scheduler', () => {
  // Jobs this file enqueues are nobody's here: leave none for a later file's send worker.
  afterEach(() => getSendQueue().drain(true));

  // Wednesday 9 December 2026, 12:00 in New York (EST, UTC-5).
  const NOW = new Date('2026-12-09T17:00:00Z');
  const TODAY = '2026-12-09';

  it('each rule: due documents get exactly their follow-up, not-due ones nothing; a second run stores nothing', async () => {
    const org = await followupOrg();
    const ago = (days: number, hours = 0) => new Date(NOW.getTime() - days * DAY - hours * 3_600_000);
    const due: Record<string, FollowupRule> = {};
    const notDue: string[] = [];

    // Proposal not opened after 3 days.
    due[await proposal(org, await customer(org), ago(3, 1))] = 'proposal_not_opened';
    notDue.push(await proposal(org, await customer(org), ago(2, 23)));
    // Opened but not decided 5 days after sending (opened = the customer opened this proposal after it was sent).
    due[await proposal(org, await customer(org), ago(5, 1), 'pending', ago(4))] = 'proposal_not_decided';
    notDue.push(await proposal(org, await customer(org), ago(4, 23), 'pending', ago(1)));
    // Viewed only before it was sent: still "not opened" (due at 3 days, so the 5-day check-in isn't sent).
    due[await proposal(org, await customer(org), ago(5, 1), 'pending', ago(9))] = 'proposal_not_opened';
    // The customer's link was viewed after sending, for something else: this proposal is still not opened.
    due[await proposal(org, await customer(org, { viewedAt: ago(4) }), ago(5, 1))] = 'proposal_not_opened';
    // Invoice due in 3 days.
    due[await invoice(org, await customer(org), day(TODAY, 3))] = 'invoice_due_soon';
    notDue.push(await invoice(org, await customer(org), day(TODAY, 4)));
    // Overdue by 1, 7 and 14 days (each the one that is current).
    due[await invoice(org, await customer(org), day(TODAY, -1))] = 'invoice_overdue_1';
    notDue.push(await invoice(org, await customer(org), day(TODAY, 0)));
    due[await invoice(org, await customer(org), day(TODAY, -7))] = 'invoice_overdue_2';
    notDue.push(await invoice(org, await customer(org), day(TODAY, -6)));
    due[await invoice(org, await customer(org), day(TODAY, -14))] = 'invoice_overdue_3';
    notDue.push(await invoice(org, await customer(org), day(TODAY, -13)));
    // Stopped: decided proposals and paid invoices get nothing.
    notDue.push(await proposal(org, await customer(org), ago(3, 1), 'approved'));
    notDue.push(await invoice(org, await customer(org), day(TODAY, -1), true));
    // Paused customer.
    const paused = await customer(org);
    await withOrg(org.orgId, (db) => db('leads').where({ id: paused }).update({ followups_paused_at: NOW }));
    notDue.push(await invoice(org, paused, day(TODAY, -1)));

    const first = await runFollowupScheduler(NOW);
    const stored = await sent(org);
    expect(Object.fromEntries(stored)).to.deep.equal(due);
    for (const id of notDue) expect(stored.has(id), id).to.equal(false);
    expect(first.queued).to.be.at.least(Object.keys(due).length);

    // The same moment again: nothing new (idempotency key + already-sent rules).
    const second = await runFollowupScheduler(NOW);
    expect(second.queued).to.equal(0);
    expect((await sent(org)).size).to.equal(Object.keys(due).length);
  });

  it('the follow-up is an outbox row in the customer’s message history, with the link placeholder and the rule’s wording', async () => {
    const org = await followupOrg();
    const leadId = await customer(org, { email: null, phone: '+15555550188' });
    await invoice(org, leadId, day(TODAY, -7));
    await runFollowupScheduler(NOW);
    const history = await withOrg(org.orgId, (db) => leadDeliveries(db, leadId));
    expect(history).to.have.length(1);
    expect(history[0]).to.include({
      channel: 'sms',
      to_address: '+15555550188',
      status: 'pending',
      contextLabel: 'Automatic follow-up: invoice',
    });
    expect(history[0].body_text).to.match(
      /^Hi Ana, invoice #\d+ from .+ for \$300\.00 was due on December 2 and is now overdue\. You can view and pay it here: /,
    );
  });

  it('plan gating comes from src/plans.ts: a Starter org with the same rules gets nothing', async () => {
    const org = await followupOrg('starter');
    await invoice(org, await customer(org), day(TODAY, -1));
    await runFollowupScheduler(NOW);
    expect((await sent(org)).size).to.equal(0);
  });

  it('at most one message per customer per day: the second document waits for the next day; a message sent by hand today counts', async () => {
    const org = await followupOrg();
    const leadId = await customer(org);
    const overdue = await invoice(org, leadId, day(TODAY, -1));
    const soon = await invoice(org, leadId, day(TODAY, 3));
    await runFollowupScheduler(NOW);
    expect(Object.fromEntries(await sent(org))).to.deep.equal({ [overdue]: 'invoice_overdue_1' });
    // Later the same local day: still one.
    await runFollowupScheduler(new Date(NOW.getTime() + 6 * 3_600_000));
    expect((await sent(org)).size).to.equal(1);
    // Next day: the other one.
    await runFollowupScheduler(new Date(NOW.getTime() + DAY));
    expect(Object.fromEntries(await sent(org))).to.deep.equal({ [overdue]: 'invoice_overdue_1', [soon]: 'invoice_due_soon' });

    const other = await customer(org);
    await invoice(org, other, day(TODAY, -1));
    await emailSentAt(org, other, new Date(NOW.getTime() - 3_600_000), { to_address: 'x@example.test', body_text: 'sent by hand' });
    await runFollowupScheduler(NOW);
    const rows = await withOrg(org.orgId, (db) => db('followup_sends').where({ lead_id: other }).count<{ count: string }[]>('* as count'));
    expect(Number(rows[0].count)).to.equal(0);
  });

  it('a notice to the business about the customer today is no message to the customer: their follow-up still goes', async () => {
    const org = await followupOrg();
    const leadId = await customer(org);
    const overdue = await invoice(org, leadId, day(TODAY, -1));
    // What a work request stores (src/messaging/business-notices.ts): an email to the business's own address, under the customer.
    await emailSentAt(org, leadId, new Date(NOW.getTime() - 3_600_000), {
      purpose: 'notice',
      to_address: 'office@business.example',
      body_text: 'New work request',
    });
    await runFollowupScheduler(NOW);
    expect(Object.fromEntries(await sent(org))).to.deep.equal({ [overdue]: 'invoice_overdue_1' });
  });

  it('quiet hours follow the org’s time zone across the DST change (America/New_York, 8 March 2026)', async () => {
    const org = await followupOrg();
    const leadId = await customer(org);
    await invoice(org, leadId, '2026-03-06'); // 1 day overdue from 7 March
    // 12:30 UTC on Saturday 7 March is 07:30 EST: quiet.
    expect((await runFollowupScheduler(new Date('2026-03-07T12:30:00Z'))).queued).to.equal(0);
    expect((await sent(org)).size).to.equal(0);
    // The same UTC time on Sunday 8 March is 08:30 EDT (clocks went forward at 2:00): it goes out.
    await runFollowupScheduler(new Date('2026-03-08T12:30:00Z'));
    expect((await sent(org)).size).to.equal(1);

    const late = await followupOrg();
    await invoice(late, await customer(late), '2026-03-06');
    // 00:30 UTC on 9 March is 20:30 EDT on the 8th: quiet (it would be 19:30 without DST).
    await runFollowupScheduler(new Date('2026-03-09T00:30:00Z'));
    expect((await sent(late)).size).to.equal(0);
    // 23:30 UTC on 8 March is 19:30 EDT: it goes out, keyed to the local day 8 March.
    await runFollowupScheduler(new Date('2026-03-08T23:30:00Z'));
    const [row] = await withOrg(late.orgId, (db) =>
      db('followup_sends').select<{ local_day: string }[]>(db.raw("to_char(local_day, 'YYYY-MM-DD') as local_day")),
    );
    expect(row.local_day).to.equal('2026-03-08');
  });

  it('the dashboard’s next follow-up: the rule and its first moment outside quiet hours', async () => {
    const org = await followupOrg();
    const leadId = await customer(org);
    const id = await invoice(org, leadId, day(TODAY, 3)); // due soon: due from local midnight today
    const early = new Date('2026-12-09T10:00:00Z'); // 05:00 EST, quiet until 08:00
    const next = await withOrg(org.orgId, (db) => nextFollowups(db, [id], early));
    expect(next.get(id)?.rule).to.equal('invoice_due_soon');
    expect(next.get(id)?.at.toISOString()).to.equal('2026-12-09T13:00:00.000Z');
    await runFollowupScheduler(NOW);
    // Sent: the next one is the first overdue reminder, the day after the due date.
    const after = await withOrg(org.orgId, (db) => nextFollowups(db, [id], NOW));
    expect(after.get(id)?.rule).to.equal('invoice_overdue_1');
    expect(after.get(id)?.at.toISOString()).to.equal('2026-12-13T13:00:00.000Z'); // 13 Dec, 08:00 EST
  });

  it('opened means this proposal was opened in the portal after it was sent, not that the customer’s link was viewed', async () => {
    await resetPortalMisses();
    const org = await followupOrg();
    const app = testApp();
    const before = (days: number) => new Date(Date.now() - days * DAY - 3_600_000);
    // One customer opens the proposal itself; the other opens only an invoice page with the same kind of link.
    const opener = await createTestLead(org.orgId, { first_name: 'Ana', email: 'opener@example.test' });
    const opened = await proposal(org, opener.id, before(1));
    const other = await createTestLead(org.orgId, { first_name: 'Ben', email: 'other@example.test' });
    const unopened = await proposal(org, other.id, before(1));
    const notYetDue = await invoice(org, other.id, day(TODAY, 30));
    const openerLink = await linkFor(org.orgId, opener.id);
    const otherLink = await linkFor(org.orgId, other.id);
    expect((await supertest(app).get(`/p/${openerLink.token}/proposals/${opened}`)).status).to.equal(200);
    expect((await supertest(app).get(`/p/${otherLink.token}/invoices/${notYetDue}`)).status).to.equal(200);
    // Both links were viewed, as the contractor sees them.
    for (const lead of [opener, other]) {
      const link = await withOrg(org.orgId, (db) => activeLinkDetails(db, lead.id));
      expect(link?.last_viewed_at, lead.id).not.to.equal(null);
    }

    // Move everything the portal stamped so that the proposals were sent 5 days before NOW and viewed 4 days before.
    const shift = `${NOW.getTime() - 4 * DAY - Date.now()} milliseconds`;
    await withOrg(org.orgId, async (db) => {
      await db('proposals').update({
        sent_at: db.raw('sent_at + ?::interval', [shift]),
        first_viewed_at: db.raw('first_viewed_at + ?::interval', [shift]),
      });
      await db('portal_visits').update({ viewed_at: db.raw('viewed_at + ?::interval', [shift]) });
    });
    await runFollowupScheduler(NOW);
    expect(Object.fromEntries(await sent(org))).to.deep.equal({ [opened]: 'proposal_not_decided', [unopened]: 'proposal_not_opened' });
  });

  it('a revision sent again is unopened until the customer opens it', async () => {
    const org = await followupOrg();
    const leadId = await customer(org);
    const ago = (days: number, hours = 0) => new Date(NOW.getTime() - days * DAY - hours * 3_600_000);
    const id = await proposal(org, leadId, ago(9), 'changes_requested', ago(8));
    await withOrg(org.orgId, async (db) => {
      await markRevisionSent(db, id, { type: 'user', userId: org.userId });
      const row = await db('proposals').where({ id }).first<{ first_viewed_at: Date | null }>('first_viewed_at');
      expect(row.first_viewed_at).to.equal(null);
      await db('proposals')
        .where({ id })
        .update({ sent_at: ago(3, 1) });
    });
    await runFollowupScheduler(NOW);
    expect(Object.fromEntries(await sent(org))).to.deep.equal({ [id]: 'proposal_not_opened' });
  });

  it('a customer whose link has expired (by the run’s moment) gets no follow-up with a dead link; a fresh link is used once made', async () => {
    const org = await followupOrg();
    const expired = await customer(org);
    const expiresBeforeRun = await customer(org);
    const live = await customer(org);
    const expiredInvoice = await invoice(org, expired, day(TODAY, -1));
    await invoice(org, expiresBeforeRun, day(TODAY, -1));
    const liveInvoice = await invoice(org, live, day(TODAY, -1));
    await withOrg(org.orgId, async (db) => {
      await db('portal_links')
        .where({ lead_id: expired })
        .update({ expires_at: new Date(Date.now() - 60_000) });
      await db('portal_links')
        .where({ lead_id: expiresBeforeRun })
        .update({ expires_at: new Date(NOW.getTime() - 60_000) });
      await db('portal_links')
        .where({ lead_id: live })
        .update({ expires_at: new Date(NOW.getTime() + DAY) });
    });
    await runFollowupScheduler(NOW);
    expect(Object.fromEntries(await sent(org))).to.deep.equal({ [liveInvoice]: 'invoice_overdue_1' });
    const queued = await withOrg(org.orgId, (db) =>
      db('message_deliveries').where({ purpose: 'followup' }).select<{ lead_id: string }[]>('lead_id'),
    );
    expect(queued.map((q) => q.lead_id)).to.deep.equal([live]);

    // The contractor makes a fresh link (the expired one is retired): the next run sends with it.
    const fresh = await withOrg(org.orgId, (db) => generatePortalLink(db, expired, { type: 'user', userId: org.userId }));
    expect(fresh.created).to.equal(true);
    await runFollowupScheduler(new Date(NOW.getTime() + 3_600_000));
    expect((await sent(org)).get(expiredInvoice)).to.equal('invoice_overdue_1');
    const [row] = await withOrg(org.orgId, (db) =>
      db('message_deliveries').where({ purpose: 'followup', lead_id: expired }).select<{ portal_link_id: string }[]>('portal_link_id'),
    );
    expect(row.portal_link_id).to.equal(fresh.link.id);
  });
});
