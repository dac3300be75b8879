import { expect } from 'chai';
import supertest from 'supertest';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { sha256Hex } from '../../src/lib/tokens.js';
import { closeMailer } from '../../src/mail/account-email.js';
import { csrfFrom, csrfToken, loginAgent, testApp } from '../support/http.js';
import { createTestOrg, uniqueEmail, type TestOrg } from '../support/factories.js';
import type { AuditEventRecord, PasswordResetRecord, UserRecord } from '../support/rows.js';
import { linkFrom, SmtpInbox } from '../support/smtp-inbox.js';

const NEW_PASSWORD = 'harbor violet stairwell nine';

async function passwordHash(userId: string): Promise<string> {
  return (await getDb()('users').where({ id: userId }).first<UserRecord>()).password_hash;
}

async function canLogIn(email: string, password: string): Promise<boolean> {
  const agent = supertest.agent(testApp());
  const _csrf = await csrfToken(agent);
  const res = await agent.post('/login').type('form').send({ email, password, _csrf });
  return res.status === 303;
}

describe('password reset by email (through a real SMTP server)', () => {
  const inbox = new SmtpInbox();
  const savedSmtp = config.smtp.url;
  let org: TestOrg;

  before(async () => {
    config.smtp.url = await inbox.start();
    await closeMailer();
  });

  after(async () => {
    config.smtp.url = savedSmtp;
    await closeMailer();
    await inbox.stop();
  });

  beforeEach(async () => {
    org = await createTestOrg();
  });

  async function requestReset(email: string) {
    const agent = supertest.agent(testApp());
    const _csrf = await csrfToken(agent, '/forgot-password');
    return agent.post('/forgot-password').type('form').send({ email, _csrf });
  }

  /** Asks for a reset and returns the link's path from the delivered email. */
  async function resetLink(email: string): Promise<string> {
    const before = inbox.to(email).length;
    expect((await requestReset(email)).status).to.equal(200);
    const mail = await inbox.waitFor(email, before + 1);
    return new URL(linkFrom(mail, `${config.publicUrl}/reset-password/`)).pathname;
  }

  async function submitNewPassword(path: string, password = NEW_PASSWORD) {
    const agent = supertest.agent(testApp());
    const page = await agent.get(path);
    const _csrf = page.status === 200 ? csrfFrom(page.text) : await csrfToken(agent, '/login');
    const res = await agent.post(path).type('form').send({ password, _csrf });
    return { page, res };
  }

  it('emails a one-time link that sets a new password', async () => {
    const path = await resetLink(org.email.toUpperCase());
    const token = path.split('/').pop()!;
    const row = await getDb()('password_resets').where({ user_id: org.userId }).first<PasswordResetRecord>();
    expect(row.token_sha256).to.equal(sha256Hex(token));
    expect(JSON.stringify(row)).to.not.contain(token);

    const { page, res } = await submitNewPassword(path);
    expect(page.status).to.equal(200);
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/login');
    expect(await canLogIn(org.email, NEW_PASSWORD)).to.equal(true);
    expect(await canLogIn(org.email, org.password)).to.equal(false);
    const audit = await getDb()('audit_events').where({ org_id: org.orgId, action: 'user.password_reset' }).first<AuditEventRecord>();
    expect(audit.subject_id).to.equal(org.userId);
  });

  it('gives the same answer whether or not the email has an account, and mails only real accounts', async () => {
    const unknown = uniqueEmail('nobody');
    const missing = await requestReset(unknown);
    const known = await requestReset(org.email);
    expect(missing.status).to.equal(known.status);
    const strip = (html: string, email: string) =>
      html
        .replace(email, 'EMAIL')
        .replace(/name="_csrf" value="[^"]+"/g, '')
        .replace(/nonce="[^"]+"/g, '');
    expect(strip(missing.text, unknown)).to.equal(strip(known.text, org.email));
    // The known address was asked for after the unknown one: once its email is here, any email for the unknown one would be too.
    await inbox.waitFor(org.email);
    expect(inbox.to(unknown)).to.have.length(0);
  });

  it('logs the user out of every existing session once the password is reset', async () => {
    const elsewhere = await loginAgent(org.email, org.password);
    expect((await elsewhere.get('/')).status).to.equal(200);
    const { res } = await submitNewPassword(await resetLink(org.email));
    expect(res.status).to.equal(303);
    const after = await elsewhere.get('/');
    expect(after.status).to.equal(302);
    expect(after.headers.location).to.match(/^\/login/);
  });

  it('refuses a reused reset link with a message and leaves the password alone', async () => {
    const path = await resetLink(org.email);
    expect((await submitNewPassword(path)).res.status).to.equal(303);
    const hash = await passwordHash(org.userId);
    const again = await submitNewPassword(path, 'a different strong phrase');
    expect(again.page.status).to.equal(410);
    expect(again.page.text).to.contain('already used');
    expect(again.res.status).to.equal(410);
    expect(await passwordHash(org.userId)).to.equal(hash);
  });

  it('refuses an expired reset link with a message and leaves the password alone', async () => {
    const path = await resetLink(org.email);
    await getDb()('password_resets')
      .where({ user_id: org.userId })
      .update({ expires_at: getDb().raw("now() - interval '1 second'") });
    const hash = await passwordHash(org.userId);
    const { page, res } = await submitNewPassword(path);
    expect(page.status).to.equal(410);
    expect(page.text).to.contain('expired');
    expect(res.status).to.equal(410);
    expect(await passwordHash(org.userId)).to.equal(hash);
  });

  it('makes older reset links useless once one is used', async () => {
    const first = await resetLink(org.email);
    const second = await resetLink(org.email);
    expect((await submitNewPassword(second)).res.status).to.equal(303);
    expect((await submitNewPassword(first, 'yet another strong phrase')).res.status).to.equal(410);
    expect(await canLogIn(org.email, NEW_PASSWORD)).to.equal(true);
  });

  it('refuses a weak new password and keeps the link usable', async () => {
    const path = await resetLink(org.email);
    const weak = await submitNewPassword(path, 'short');
    expect(weak.res.status).to.equal(422);
    expect(weak.res.text).to.contain('id="e-password"');
    expect(await canLogIn(org.email, org.password)).to.equal(true);
    expect((await submitNewPassword(path)).res.status).to.equal(303);
  });

  it('answers 404 for a reset link that never existed', async () => {
    const res = await supertest(testApp()).get(`/reset-password/${'B'.repeat(43)}`);
    expect(res.status).to.equal(404);
  });

  it('refuses a malformed email with a field message', async () => {
    const res = await requestReset('not an email');
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('id="e-email"');
  });

  it('rate-limits repeated reset requests for one address (429)', async () => {
    const target = await createTestOrg();
    const agent = supertest.agent(testApp());
    const _csrf = await csrfToken(agent, '/forgot-password');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      statuses.push((await agent.post('/forgot-password').type('form').send({ email: target.email, _csrf })).status);
    }
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
    await inbox.waitFor(target.email, 5);
    // A barrier, not a pause: a reset asked for later (another account) has arrived, so a 6th would have too.
    const other = await createTestOrg();
    await agent.post('/forgot-password').type('form').send({ email: other.email, _csrf });
    await inbox.waitFor(other.email);
    expect(inbox.to(target.email)).to.have.length(5);
  });

  it('refuses a reset request without the CSRF token', async () => {
    const res = await supertest(testApp()).post('/forgot-password').type('form').send({ email: org.email });
    expect(res.status).to.equal(403);
    expect(await getDb()('password_resets').where({ user_id: org.userId })).to.have.length(0);
  });
});
