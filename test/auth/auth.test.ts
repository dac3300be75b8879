import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { csrfFrom, csrfToken, loginAgent, testApp } from '../support/http.js';
import { createTestOrg, uniqueEmail } from '../support/factories.js';
import type { UserRecord } from '../support/rows.js';

async function countUsersWithEmail(email: string): Promise<number> {
  const [{ count }] = await getDb()('users').where({ email }).count<{ count: string }[]>('* as count');
  return Number(count);
}

describe('contractor accounts', () => {
  describe('sign-up', () => {
    it('creates an organization with its owner and logs them in', async () => {
      const agent = supertest.agent(testApp());
      const email = uniqueEmail('new');
      const _csrf = await csrfToken(agent, '/signup');
      const res = await agent
        .post('/signup')
        .type('form')
        .send({ orgName: 'Bright Gutters', name: 'Gail Gutter', email: email.toUpperCase(), password: 'copper downspout mornings', _csrf });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/');
      const home = await agent.get('/');
      expect(home.status).to.equal(200);
      expect(home.text).to.contain('Bright Gutters');
      const user = await getDb()('users').where({ email }).first<UserRecord>();
      expect(user).to.include({ role: 'owner', name: 'Gail Gutter' });
      expect(user.password_hash).to.match(/^\$argon2id\$/);
    });

    for (const [label, fields, field] of [
      ['a malformed email', { email: 'not-an-email' }, 'email'],
      ['an empty password', { password: '' }, 'password'],
      ['a weak password', { password: 'password123' }, 'password'],
      ['a missing business name', { orgName: '' }, 'orgName'],
    ] as const) {
      it(`refuses ${label}, marks the field and creates nothing`, async () => {
        const agent = supertest.agent(testApp());
        const email = uniqueEmail('bad');
        const _csrf = await csrfToken(agent, '/signup');
        const res = await agent
          .post('/signup')
          .type('form')
          .send(Object.assign({ orgName: 'Shady Pines', name: 'Pat', email, password: 'copper downspout mornings', _csrf }, fields));
        expect(res.status).to.equal(422);
        expect(res.text).to.contain(`id="e-${field}"`);
        expect(res.text).to.contain('Shady Pines'.slice(0, fields.orgName === '' ? 0 : 11));
        expect(await countUsersWithEmail('email' in fields ? fields.email : email)).to.equal(0);
        const orgs = await getDb()('organizations').where({ name: 'Shady Pines' }).count<{ count: string }[]>('* as count');
        expect(Number(orgs[0].count)).to.equal(0);
      });
    }

    it('refuses an email that already has an account', async () => {
      const existing = await createTestOrg();
      const agent = supertest.agent(testApp());
      const _csrf = await csrfToken(agent, '/signup');
      const res = await agent
        .post('/signup')
        .type('form')
        .send({ orgName: 'Copycat LLC', name: 'Cat', email: existing.email, password: 'copper downspout mornings', _csrf });
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('already exists');
      expect(await countUsersWithEmail(existing.email)).to.equal(1);
      const orgs = await getDb()('organizations').where({ name: 'Copycat LLC' }).count<{ count: string }[]>('* as count');
      expect(Number(orgs[0].count)).to.equal(0);
    });

    it('refuses a sign-up without a CSRF token (403) and creates nothing', async () => {
      const email = uniqueEmail('csrf');
      const res = await supertest(testApp())
        .post('/signup')
        .type('form')
        .send({ orgName: 'No Token Inc', name: 'Nat', email, password: 'copper downspout mornings' });
      expect(res.status).to.equal(403);
      expect(await countUsersWithEmail(email)).to.equal(0);
    });
  });

  describe('log-in and log-out', () => {
    it('logs in with the right password and out again', async () => {
      const org = await createTestOrg();
      const agent = await loginAgent(org.email, org.password);
      expect((await agent.get('/')).status).to.equal(200);
      const out = await agent.post('/logout').type('form').send({ _csrf: agent.csrf });
      expect(out.status).to.equal(303);
      const after = await agent.get('/');
      expect(after.status).to.equal(302);
      expect(after.headers.location).to.match(/^\/login/);
    });

    it('refuses a wrong password with a message', async () => {
      const org = await createTestOrg();
      const agent = supertest.agent(testApp());
      const _csrf = await csrfToken(agent);
      const res = await agent.post('/login').type('form').send({ email: org.email, password: 'wrong-password-here', _csrf });
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('don’t match');
      expect((await agent.get('/')).status).to.equal(302);
    });

    it('refuses a log-in without a CSRF token (403)', async () => {
      const org = await createTestOrg();
      const res = await supertest(testApp()).post('/login').type('form').send({ email: org.email, password: org.password });
      expect(res.status).to.equal(403);
    });

    it('refuses a log-out without a CSRF token and keeps the session', async () => {
      const org = await createTestOrg();
      const agent = await loginAgent(org.email, org.password);
      expect((await agent.post('/logout').type('form').send({})).status).to.equal(403);
      expect((await agent.get('/')).status).to.equal(200);
    });

    it('rate-limits repeated failed log-ins (429)', async () => {
      const org = await createTestOrg();
      const agent = supertest.agent(testApp());
      const token = await csrfToken(agent);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i += 1) {
        const res = await agent
          .post('/login')
          .type('form')
          .send({ email: org.email, password: `guess-${i}-wrong`, _csrf: token });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 5)).to.deep.equal([422, 422, 422, 422, 422]);
      expect(statuses.slice(5)).to.deep.equal([429, 429]);
      // Even the right password waits out the window.
      const res = await agent.post('/login').type('form').send({ email: org.email, password: org.password, _csrf: token });
      expect(res.status).to.equal(429);
    });

    it('sets an httpOnly, SameSite session cookie', async () => {
      const agent = supertest.agent(testApp());
      const res = await agent.get('/login');
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).to.contain('porchlight.sid=');
      expect(cookie).to.contain('HttpOnly');
      expect(cookie).to.contain('SameSite=Lax');
      expect(csrfFrom(res.text)).to.have.length.greaterThan(10);
    });
  });
});
