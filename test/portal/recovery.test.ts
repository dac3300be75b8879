// "Send me my link again" (issue #14, point 2): the not-found page's form, the same
// answer whatever matched, each matching customer's own link sent to that address only
// (a fresh one for an expired link), limits per client and per address, CSRF, and the
// resend in the customer's message history.
import crypto from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import type { Request } from 'express';
import { isValidRecoveryFormToken, recoveryFormToken } from '../../src/portal-links/token.js';
import { parseRecoveryAddress } from '../../src/portal/recover-handler.js';
import { portalClientKey } from '../../src/portal/responses.js';
import { recoverLinks } from '../../src/portal/recovery.js';
import { closeQueues } from '../../src/queue/queues.js';
import type { RunningWorker } from '../../src/queue/worker.js';
import { createSendWorker } from '../../workers/send-message.js';
import { startPortalRecoveryWorker } from '../../workers/portal-recovery.js';
import { createTestLead, createTestOrg, uniqueEmail } from '../support/factories.js';
import { loginAgent, testApp } from '../support/http.js';
import { startTestSmtp, type TestSmtp } from '../support/smtp.js';
import { startTwilioStandin, type TwilioStandin } from '../support/twilio-standin.js';
import { useStandins } from '../messaging/helpers.js';
import { countRoundTrips, linkFor, resetPortalMisses } from './support.js';

const TOKEN_IN_TEXT = /\/p\/([A-Za-z0-9_-]{43})/;

async function formToken(agent = supertest(testApp())): Promise<string> {
  const page = await agent.get(`/p/${'Z'.repeat(43)}`);
  expect(page.status).to.equal(404);
  return /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
}

async function ask(address: string, token?: string) {
  return supertest(testApp())
    .post('/p/recover')
    .type('form')
    .send({ _csrf: token ?? (await formToken()), address });
}

async function waitFor<T>(fn: () => T | undefined | null | false, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function uniquePhone(): string {
  // +1 512 555 01xx numbers are valid in the plan (and reserved for fiction).
  return `+1512555${String(crypto.randomInt(100, 199)).padStart(4, '0')}`;
}

describe('portal link recovery ("Send me my link again")', () => {
  let standin: TwilioStandin;
  let smtp: TestSmtp;
  const running: RunningWorker[] = [];

  before(async () => {
    standin = await startTwilioStandin();
    smtp = await startTestSmtp();
    useStandins(standin, smtp);
    const send = createSendWorker({ backoffBaseMs: 20, concurrency: 4, shutdownTimeoutMs: 2_000 });
    await send.worker.waitUntilReady();
    running.push(send.running, await startPortalRecoveryWorker());
  });

  after(async () => {
    for (const r of running) await r.close();
    await closeQueues();
    await standin.close();
    await smtp.close();
  });

  beforeEach(async () => {
    await resetPortalMisses();
    smtp.inbox.length = 0;
    standin.reset();
  });

  it('shows the form on the one not-found page, identical for unknown, revoked and expired links', async () => {
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId);
    const revoked = await linkFor(org.orgId, lead.id);
    await getDb()('portal_links').where({ id: revoked.id }).update({ revoked_at: new Date() });
    const lead2 = await createTestLead(org.orgId);
    const expired = await linkFor(org.orgId, lead2.id);
    await getDb()('portal_links')
      .where({ id: expired.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const strip = (html: string) => html.replace(/name="_csrf" value="[^"]+"/, '').replace(/nonce="[^"]+"/g, '');
    const pages = await Promise.all(
      [`/p/${'Q'.repeat(43)}`, `/p/${revoked.token}`, `/p/${expired.token}`].map((p) => supertest(testApp()).get(p)),
    );
    for (const page of pages) {
      expect(page.status).to.equal(404);
      expect(page.text).to.contain('Send me my link again').and.to.contain('action="/p/recover"');
      expect(strip(page.text)).to.equal(strip(pages[0].text));
    }
  });

  it('emails each matching customer of every org their own link, to that address only, and says the same as for no match', async () => {
    const email = uniqueEmail('lost');
    const a = await createTestOrg();
    const b = await createTestOrg();
    const leadA = await createTestLead(a.orgId, { email, phone: uniquePhone() });
    const leadB = await createTestLead(b.orgId, { email, phone: uniquePhone() });
    const other = await createTestLead(a.orgId, { email: uniqueEmail('other') });
    const linkA = await linkFor(a.orgId, leadA.id);
    const linkB = await linkFor(b.orgId, leadB.id);
    await linkFor(a.orgId, other.id);
    // A customer with the address but only a revoked link gets nothing.
    const c = await createTestOrg();
    const leadC = await createTestLead(c.orgId, { email });
    const linkC = await linkFor(c.orgId, leadC.id);
    await getDb()('portal_links').where({ id: linkC.id }).update({ revoked_at: new Date() });

    const hit = await ask(`  ${email.toUpperCase()} `);
    const miss = await ask(uniqueEmail('nobody'));
    expect(hit.status).to.equal(200);
    expect(miss.status).to.equal(200);
    expect(hit.text.replace(/nonce="[^"]+"/g, '')).to.equal(miss.text.replace(/nonce="[^"]+"/g, ''));
    expect(hit.text).to.contain('Check your email');

    await waitFor(() => smtp.inbox.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.inbox).to.have.length(2);
    const tokens = smtp.inbox.map((m) => {
      expect(m.to && !Array.isArray(m.to) ? m.to.value.map((v) => v.address) : []).to.deep.equal([email]);
      return TOKEN_IN_TEXT.exec(m.text ?? '')![1];
    });
    expect(tokens.sort()).to.deep.equal([linkA.token, linkB.token].sort());
    expect(smtp.recipients.filter((r) => r !== email)).to.deep.equal([]);

    // The contractor sees it in the customer's message history.
    const agent = await loginAgent(a.email, a.password);
    const page = await agent.get(`/customers/${leadA.id}`);
    expect(page.text).to.contain('Link requested again by the customer');
    const row = await getDb()('message_deliveries').where({ lead_id: leadA.id }).first<{ customer_request: boolean; to_address: string }>();
    expect(row).to.include({ customer_request: true, to_address: email });
    const audit = await getDb()('audit_events')
      .where({ org_id: a.orgId, action: 'portal_link.recovery_sent' })
      .first<{ actor_type: string }>();
    expect(audit.actor_type).to.equal('customer');
    expect(await getDb()('message_deliveries').where({ lead_id: leadC.id }).first()).to.equal(undefined);
  });

  it('sends a fresh link for an expired one, which opens the portal, and the old one stays dead', async () => {
    const email = uniqueEmail('expired');
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId, { email });
    const old = await linkFor(org.orgId, lead.id);
    await getDb()('portal_links')
      .where({ id: old.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect((await ask(email)).status).to.equal(200);
    const mail = await waitFor(() => smtp.inbox.find((m) => (m.text ?? '').includes(config.publicUrl)));
    const token = TOKEN_IN_TEXT.exec(mail.text ?? '')![1];
    expect(token).not.to.equal(old.token);
    expect((await supertest(testApp()).get(`/p/${token}`)).status).to.equal(200);
    expect((await supertest(testApp()).get(`/p/${old.token}`)).status).to.equal(404);
  });

  it('texts the link to a matching phone number typed the national way', async () => {
    const phone = uniquePhone();
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId, { phone });
    const link = await linkFor(org.orgId, lead.id);
    const national = `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
    const res = await supertest(testApp())
      .post('/p/recover')
      .set('Accept-Language', 'en-US')
      .type('form')
      .send({ _csrf: await formToken(), address: national });
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('Check your text messages');
    // The numbers come from a hundred fictional ones, so another test's customer may share it and get their own
    // link texted there too: this customer's is the one to find.
    await waitFor(() => standin.sent.find((m) => m.to === phone && m.body.includes(link.token)));
    // The same number from a browser in Spanish is still a US number, not refused as no number in Spain.
    const es = await supertest(testApp())
      .post('/p/recover')
      .set('Accept-Language', 'es')
      .type('form')
      .send({ _csrf: await formToken(), address: national });
    expect(es.status).to.equal(200);
  });

  it('refuses a bad address with 422 and the form again, and a missing or foreign form token with 403; nothing queued', async () => {
    const bad = await ask('not an address');
    expect(bad.status).to.equal(422);
    expect(bad.text).to.contain('Enter the email address or mobile number').and.to.contain('aria-invalid="true"');
    const email = uniqueEmail('csrf');
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId, { email });
    await linkFor(org.orgId, lead.id);
    const hour = Math.floor(Date.now() / 3600_000);
    const old = recoveryFormToken('::ffff:127.0.0.1', Date.now() - 3 * 3600_000);
    for (const token of ['', 'x', `${hour}.${'a'.repeat(43)}`, old, `${hour - 2}.abc`]) {
      const res = await supertest(testApp()).post('/p/recover').type('form').send({ _csrf: token, address: email });
      expect(res.status, token).to.equal(403);
    }
    // A token made for another client is refused too.
    expect(isValidRecoveryFormToken(portalClientKey({ ip: '198.51.100.7' } as Request), recoveryFormToken('203.0.113.9'))).to.equal(false);
    expect(isValidRecoveryFormToken('203.0.113.9', recoveryFormToken('203.0.113.9'))).to.equal(true);
    // Usable for one to two hours after the page was served, not three.
    const now = Date.now();
    expect(isValidRecoveryFormToken('k', recoveryFormToken('k', now - 3600_000), now)).to.equal(true);
    expect(isValidRecoveryFormToken('k', recoveryFormToken('k', now - 3 * 3600_000), now)).to.equal(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(await getDb()('message_deliveries').where({ lead_id: lead.id }).first()).to.equal(undefined);
  });

  it('limits requests per address (3 an hour) whatever matched, and per client (10 an hour)', async () => {
    const email = uniqueEmail('limit');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await ask(email)).status);
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
    const others: number[] = [];
    for (let i = 0; i < 7; i++) others.push((await ask(uniqueEmail('spread'))).status);
    // 4 + 6 = 10 requests from this client; the 11th is refused.
    expect(others).to.deep.equal([200, 200, 200, 200, 200, 200, 429]);
  });

  it('parses what people type: email case and spaces, national and international numbers', () => {
    expect(parseRecoveryAddress(' Sam@Example.TEST ', ['en-US'])).to.deep.equal({ email: 'sam@example.test', phone: null });
    expect(parseRecoveryAddress('(512) 555-0142', ['en-US'])).to.deep.equal({ email: null, phone: '+15125550142' });
    expect(parseRecoveryAddress('+351 912 345 678', ['en-US'])).to.deep.equal({ email: null, phone: '+351912345678' });
    // A Spanish browser says nothing about where its reader lives: a US number still reads as one.
    expect(parseRecoveryAddress('(512) 555-0142', ['es', 'en'])).to.deep.equal({ email: null, phone: '+15125550142' });
    // A region the browser names comes first; a number valid only elsewhere falls back.
    expect(parseRecoveryAddress('612 345 678', ['es-ES'])).to.deep.equal({ email: null, phone: '+34612345678' });
    expect(parseRecoveryAddress('(512) 555-0142', ['es-ES'])).to.deep.equal({ email: null, phone: '+15125550142' });
    expect(parseRecoveryAddress('020 7946 0958', ['en-GB'])).to.deep.equal({ email: null, phone: '+442079460958' });
    expect(parseRecoveryAddress('612 345 678', ['es'])).to.deep.equal({ email: null, phone: '+34612345678' });
    for (const bad of ['', 'hello', '12', 'a@', 'x'.repeat(400)]) expect(parseRecoveryAddress(bad, ['en-US']), bad).to.equal(null);
  });

  it('sends nothing for a customer whose stored address differs from the one asked for (recoverLinks directly)', async () => {
    const counts = await recoverLinks({ email: uniqueEmail('none'), phone: null });
    expect(counts).to.deep.equal({ sent: 0, fresh: 0, refused: 0, skipped: 0 });
  });
});

// No worker runs here: the request alone is measured (the jobs wait in this run's Redis prefix).
describe('portal link recovery: the request itself', () => {
  beforeEach(resetPortalMisses);

  it('answers a hit and a miss without touching the database: the matching happens only in the job', async () => {
    const email = uniqueEmail('timing');
    const org = await createTestOrg();
    const lead = await createTestLead(org.orgId, { email });
    await linkFor(org.orgId, lead.id);
    const token = await formToken();
    for (const address of [email, uniqueEmail('nobody')]) {
      const { result, roundTrips } = await countRoundTrips(() =>
        supertest(testApp()).post('/p/recover').type('form').send({ _csrf: token, address }),
      );
      expect(result.status, address).to.equal(200);
      expect(roundTrips, address).to.equal(0);
    }
  });
});
