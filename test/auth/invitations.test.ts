import { expect } from 'chai';
import supertest from 'supertest';
import { createOrganization } from '../../src/auth/commands.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { sha256Hex } from '../../src/lib/tokens.js';
import { closeMailer } from '../../src/mail/account-email.js';
import { csrfFrom, csrfToken, loginAgent, testApp, type Agent } from '../support/http.js';
import { createTestOrg, createTestStaff, uniqueEmail, type TestOrg } from '../support/factories.js';
import type { InvitationRecord, UserRecord } from '../support/rows.js';
import { linkFrom, SmtpInbox } from '../support/smtp-inbox.js';

type LoggedIn = Agent & { csrf: string };
const NEW_PASSWORD = 'lantern ladder copper evening';

async function usersWithEmail(email: string) {
  return getDb()('users').where({ email }).select<UserRecord[]>();
}

describe('team invitations (through a real SMTP server)', () => {
  const inbox = new SmtpInbox();
  const savedSmtp = config.smtp.url;
  let owner: TestOrg;
  let agent: LoggedIn;

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
    owner = await createTestOrg({ name: 'Evergreen Pools' });
    agent = await loginAgent(owner.email, owner.password);
  });

  /** Invites an address and returns the link's path, read from the delivered email. */
  async function invite(email: string): Promise<string> {
    const before = inbox.to(email).length;
    const res = await agent.post('/settings/team/invitations').type('form').send({ email, _csrf: agent.csrf });
    expect(res.status, res.text).to.equal(303);
    const mail = await inbox.waitFor(email, before + 1);
    return new URL(linkFrom(mail, `${config.publicUrl}/invite/`)).pathname;
  }

  async function accept(path: string, name = 'Ivy Invitee', password = NEW_PASSWORD) {
    const visitor = supertest.agent(testApp());
    const page = await visitor.get(path);
    const _csrf = page.status === 200 ? csrfFrom(page.text) : await csrfToken(visitor, '/login');
    const res = await visitor.post(path).type('form').send({ name, password, _csrf });
    return { visitor, page, res };
  }

  it('emails a one-time link that creates a staff member of this org', async () => {
    const email = uniqueEmail('invitee');
    const path = await invite(email);
    const mail = inbox.to(email)[0];
    expect(mail.subject).to.contain('Evergreen Pools');
    expect(mail.html).to.contain(path);

    const token = path.split('/').pop()!;
    const row = await getDb()('invitations').where({ org_id: owner.orgId, email }).first<InvitationRecord>();
    expect(row.token_sha256).to.equal(sha256Hex(token));
    expect(JSON.stringify(row)).to.not.contain(token);
    const days = (row.expires_at.getTime() - row.created_at.getTime()) / 86_400_000;
    expect(days).to.be.closeTo(7, 0.01);

    const { visitor, page, res } = await accept(path);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Join Evergreen Pools');
    expect(res.status).to.equal(303);
    const home = await visitor.get('/');
    expect(home.status).to.equal(200);
    expect(home.text).to.contain('Evergreen Pools');
    const [user] = await usersWithEmail(email);
    expect(user).to.include({ org_id: owner.orgId, role: 'staff', name: 'Ivy Invitee' });
    expect((await getDb()('invitations').where({ id: row.id }).first<InvitationRecord>()).accepted_at).to.be.an.instanceOf(Date);
    // Staff can't manage the team.
    expect((await visitor.get('/settings/team')).status).to.equal(403);
  });

  it('refuses a reused invitation link with a message and creates nobody', async () => {
    const email = uniqueEmail('twice');
    const path = await invite(email);
    expect((await accept(path)).res.status).to.equal(303);
    const again = await accept(path, 'Second Person', 'another strong phrase here');
    expect(again.page.status).to.equal(410);
    expect(again.page.text).to.contain('already used');
    expect(again.res.status).to.equal(410);
    const users = await usersWithEmail(email);
    expect(users).to.have.length(1);
    expect(users[0].name).to.equal('Ivy Invitee');
  });

  it('refuses an expired invitation link with a message and creates nobody', async () => {
    const email = uniqueEmail('late');
    const path = await invite(email);
    await getDb()('invitations')
      .where({ email })
      .update({ expires_at: getDb().raw("now() - interval '1 minute'") });
    const { page, res } = await accept(path);
    expect(page.status).to.equal(410);
    expect(page.text).to.contain('expired');
    expect(res.status).to.equal(410);
    expect(await usersWithEmail(email)).to.have.length(0);
    expect((await getDb()('invitations').where({ email }).first<InvitationRecord>()).accepted_at).to.equal(null);
  });

  it('refuses a withdrawn invitation, and a second invitation replaces the first link', async () => {
    const email = uniqueEmail('withdrawn');
    const first = await invite(email);
    const second = await invite(email);
    expect((await accept(first)).page.status).to.equal(410);
    const pending = await getDb()('invitations').where({ email }).whereNull('revoked_at').first<InvitationRecord>();
    const res = await agent.post(`/settings/team/invitations/${pending.id}/revoke`).type('form').send({ _csrf: agent.csrf });
    expect(res.status).to.equal(303);
    const { page } = await accept(second);
    expect(page.status).to.equal(410);
    expect(page.text).to.contain('withdrawn');
    expect(await usersWithEmail(email)).to.have.length(0);
  });

  it('answers 404 for a link that never existed', async () => {
    const res = await supertest(testApp()).get(`/invite/${'A'.repeat(43)}`);
    expect(res.status).to.equal(404);
    expect(res.text).to.contain('isn’t valid');
  });

  it('refuses to invite an email that already has an account (a user belongs to one org)', async () => {
    const other = await createTestOrg();
    const res = await agent.post('/settings/team/invitations').type('form').send({ email: other.email.toUpperCase(), _csrf: agent.csrf });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('already has a Porchlight account');
    expect(await getDb()('invitations').where({ email: other.email })).to.have.length(0);
    expect(inbox.to(other.email)).to.have.length(0);
  });

  it('refuses to accept when the email got an account elsewhere in the meantime', async () => {
    const email = uniqueEmail('raced');
    const path = await invite(email);
    await createOrganization({ name: 'Other Business', owner: { name: 'Raced', email, passwordHash: await hashPassword(NEW_PASSWORD) } });
    const { res } = await accept(path);
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('already has a Porchlight account');
    const users = await usersWithEmail(email);
    expect(users).to.have.length(1);
    expect(users[0].org_id).to.not.equal(owner.orgId);
    expect((await getDb()('invitations').where({ email }).first<InvitationRecord>()).accepted_at).to.equal(null);
  });

  it('keeps the link usable after a weak password is refused', async () => {
    const email = uniqueEmail('weak');
    const path = await invite(email);
    const weak = await accept(path, 'Wes', 'password1');
    expect(weak.res.status).to.equal(422);
    expect(weak.res.text).to.contain('id="e-password"');
    expect(await usersWithEmail(email)).to.have.length(0);
    expect((await accept(path)).res.status).to.equal(303);
  });

  it('refuses an invitation without the CSRF token and sends nothing', async () => {
    const email = uniqueEmail('nocsrf');
    const res = await agent.post('/settings/team/invitations').type('form').send({ email });
    expect(res.status).to.equal(403);
    expect(await getDb()('invitations').where({ email })).to.have.length(0);
  });

  it('refuses a malformed email with a message', async () => {
    const res = await agent.post('/settings/team/invitations').type('form').send({ email: 'not-an-email', _csrf: agent.csrf });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('id="e-email"');
  });

  it('answers 403 to staff on the invitation routes and sends nothing', async () => {
    const staff = await createTestStaff(owner.orgId);
    const staffAgent = await loginAgent(staff.email, staff.password);
    const email = uniqueEmail('bystaff');
    const res = await staffAgent.post('/settings/team/invitations').type('form').send({ email, _csrf: staffAgent.csrf });
    expect(res.status).to.equal(403);
    expect(await getDb()('invitations').where({ email })).to.have.length(0);
    expect(inbox.to(email)).to.have.length(0);
    const pendingEmail = uniqueEmail('pending');
    await invite(pendingEmail);
    const pending = await getDb()('invitations').where({ email: pendingEmail }).first<InvitationRecord>();
    const revoke = await staffAgent.post(`/settings/team/invitations/${pending.id}/revoke`).type('form').send({ _csrf: staffAgent.csrf });
    expect(revoke.status).to.equal(403);
    expect((await getDb()('invitations').where({ id: pending.id }).first<InvitationRecord>()).revoked_at).to.equal(null);
  });
});
