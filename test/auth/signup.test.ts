// Sign-up confirms the address first: a new address gets a link that finishes
// sign-up; an address with an account gets the same page, in the same time, and
// its owner an email instead. The form never says which emails have accounts.
import { expect } from 'chai';
import supertest from 'supertest';
import { createOrganization } from '../../src/auth/commands.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { withoutOrg } from '../../src/db/tenancy.js';
import { closeMailer } from '../../src/mail/account-email.js';
import { createTestOrg, uniqueEmail } from '../support/factories.js';
import { csrfFrom, csrfToken, testApp } from '../support/http.js';
import type { UserRecord } from '../support/rows.js';
import { linkFrom, SmtpInbox } from '../support/smtp-inbox.js';

const PASSWORD = 'copper downspout mornings';

async function count(table: string, where: Record<string, string>): Promise<number> {
  const [row] = await getDb()(table).where(where).count<{ count: string }[]>('* as count');
  return Number(row.count);
}

/** Posts the sign-up form from a fresh browser; the response and how long it took. */
async function signUp(fields: Record<string, string>): Promise<{ res: supertest.Response; ms: number }> {
  const agent = supertest.agent(testApp());
  const _csrf = await csrfToken(agent, '/signup');
  const started = process.hrtime.bigint();
  const res = await agent
    .post('/signup')
    .type('form')
    .send({ orgName: 'Bright Gutters', name: 'Gail Gutter', ...fields, _csrf });
  return { res, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe('sign-up (through a real SMTP server)', () => {
  const inbox = new SmtpInbox();
  const savedSmtp = config.smtp.url;

  before(async () => {
    config.smtp.url = await inbox.start();
    await closeMailer();
  });
  after(async () => {
    config.smtp.url = savedSmtp;
    await closeMailer();
    await inbox.stop();
  });

  /** Signs up an address and returns the link's path, read from the delivered email. */
  async function signUpLink(email: string, orgName = 'Bright Gutters'): Promise<string> {
    const before = inbox.to(email).length;
    const { res } = await signUp({ email, orgName });
    expect(res.status).to.equal(200);
    const mail = await inbox.waitFor(email, before + 1);
    expect(mail.subject).to.equal('Finish creating your Porchlight account');
    return new URL(linkFrom(mail, `${config.publicUrl}/signup/`)).pathname;
  }

  async function finish(path: string, password = PASSWORD) {
    const visitor = supertest.agent(testApp());
    const page = await visitor.get(path);
    const _csrf = page.status === 200 ? csrfFrom(page.text) : await csrfToken(visitor, '/login');
    const res = await visitor.post(path).type('form').send({ password, _csrf });
    return { visitor, page, res };
  }

  it('a new address gets a link; choosing a password there creates the organization and its owner, logged in', async () => {
    const email = uniqueEmail('new');
    const path = await signUpLink(email.toUpperCase(), 'Bright Gutters');
    expect(await count('users', { email })).to.equal(0); // nothing until the address is confirmed
    const { visitor, page, res } = await finish(path);
    expect(page.text).to.contain('Bright Gutters');
    expect(page.text).to.contain(`value="${email}"`);
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/');
    const home = await visitor.get('/');
    expect(home.status).to.equal(200);
    expect(home.text).to.contain('Bright Gutters');
    const user = await getDb()('users').where({ email }).first<UserRecord>();
    expect(user).to.include({ role: 'owner', name: 'Gail Gutter' });
    expect(user.password_hash).to.match(/^\$argon2id\$/);
  });

  it('an address with an account: the same page in the same time, an email to its owner, nothing created', async () => {
    const existing = await createTestOrg();
    const fresh = () => uniqueEmail('fresh');
    const times = { existing: [] as number[], fresh: [] as number[] };
    let pages: { existing?: string; fresh?: string } = {};
    // 5 rounds: the product allows 5 sign-up emails per address an hour (a 6th would be 429).
    for (let i = 0; i < 5; i += 1) {
      const freshEmail = fresh();
      const a = await signUp({ email: existing.email, orgName: 'Copycat LLC' });
      const b = await signUp({ email: freshEmail, orgName: 'Copycat LLC' });
      expect([a.res.status, b.res.status]).to.deep.equal([200, 200]);
      times.existing.push(a.ms);
      times.fresh.push(b.ms);
      pages = { existing: a.res.text.replaceAll(existing.email, 'EMAIL'), fresh: b.res.text.replaceAll(freshEmail, 'EMAIL') };
    }
    expect(pages.existing).to.equal(pages.fresh);
    expect(pages.existing).to.contain('Check your email');
    // Neither answer waits for the database lookup or the email: both come back at once.
    expect(Math.abs(median(times.existing) - median(times.fresh)), JSON.stringify(times)).to.be.below(60);

    const mail = await inbox.waitFor(existing.email, 5);
    expect(mail.subject).to.equal('Someone tried to sign up with your email');
    expect(mail.text).to.contain(`${config.publicUrl}/login`);
    expect(mail.text).to.contain(`${config.publicUrl}/forgot-password`);
    expect(mail.text).not.to.contain('/signup/');
    expect(await count('users', { email: existing.email })).to.equal(1);
    expect(await count('organizations', { name: 'Copycat LLC' })).to.equal(0);
    expect(await count('signup_requests', { email: existing.email })).to.equal(0);
  });

  const refused: Array<[string, Record<string, string>, string]> = [
    ['a malformed email', { email: 'not-an-email' }, 'email'],
    ['a missing business name', { orgName: '' }, 'orgName'],
    ['a missing name', { name: '' }, 'name'],
  ];
  for (const [label, fields, field] of refused) {
    it(`refuses ${label}, marks the field and sends nothing`, async () => {
      const email = uniqueEmail('bad');
      const { res } = await signUp({ email, ...fields });
      expect(res.status).to.equal(422);
      expect(res.text).to.contain(`id="e-${field}"`);
      // A barrier, not a pause: a later sign-up's email has arrived, so one started by this request would have too.
      await signUpLink(uniqueEmail('barrier'));
      expect(inbox.to(email)).to.have.length(0);
      expect(await count('signup_requests', { email })).to.equal(0);
    });
  }

  it('the link: opening it changes nothing; a weak password keeps it usable; it works once', async () => {
    const email = uniqueEmail('once');
    const path = await signUpLink(email);
    await supertest(testApp()).get(path); // a mail scanner opening the link
    const weak = await finish(path, 'password123');
    expect(weak.res.status).to.equal(422);
    expect(weak.res.text).to.contain('id="e-password"');
    expect(await count('users', { email })).to.equal(0);
    expect((await finish(path)).res.status).to.equal(303);
    const again = await finish(path);
    expect(again.page.status).to.equal(410);
    expect(again.res.status).to.equal(410);
    expect(again.res.text).to.contain('already used');
    expect(await count('users', { email })).to.equal(1);
  });

  it('the link expires after 24 hours; an unknown one is 404; only the newest one for an address works', async () => {
    const email = uniqueEmail('late');
    const first = await signUpLink(email);
    const second = await signUpLink(email);
    expect((await finish(first)).res.status).to.equal(404); // replaced: gone like a link that never existed
    const row = await getDb()('signup_requests').where({ email }).first<{ created_at: Date; expires_at: Date }>();
    expect(row.expires_at.getTime() - row.created_at.getTime()).to.equal(24 * 3600 * 1000);
    await getDb()('signup_requests')
      .where({ email })
      .update({ expires_at: getDb().raw("now() - interval '1 minute'") });
    const late = await finish(second);
    expect(late.page.status).to.equal(410);
    expect(late.res.text).to.contain('expired');
    expect(await count('users', { email })).to.equal(0);
    expect((await supertest(testApp()).get(`/signup/${'x'.repeat(43)}`)).status).to.equal(404);
  });

  it('an address that got an account after the link was sent: the link says so and creates nothing', async () => {
    const email = uniqueEmail('raced');
    const path = await signUpLink(email, 'Second Business');
    await createOrganization({ name: 'First Business', owner: { name: 'Raced', email, passwordHash: await hashPassword(PASSWORD) } });
    const { res } = await finish(path);
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('already has a Porchlight account');
    expect(await count('organizations', { name: 'Second Business' })).to.equal(0);
  });

  it('refuses a sign-up without a CSRF token (403) and sends nothing', async () => {
    const email = uniqueEmail('csrf');
    const res = await supertest(testApp()).post('/signup').type('form').send({ orgName: 'No Token Inc', name: 'Nat', email });
    expect(res.status).to.equal(403);
    expect(await count('signup_requests', { email })).to.equal(0);
  });

  it('keeps pending sign-ups out of reach of tenant transactions (the app role has no grant)', async () => {
    const err = await withoutOrg((db) => db('signup_requests').select('email')).catch((e: unknown) => e);
    expect(String(err)).to.contain('permission denied');
  });
});
