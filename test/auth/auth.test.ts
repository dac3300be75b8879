import { expect } from 'chai';
import supertest from 'supertest';
import { csrfFrom, csrfToken, loginAgent, testApp } from '../support/http.js';
import { createTestOrg } from '../support/factories.js';

describe('contractor accounts', () => {
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
      for (let i = 0; i < 12; i += 1) {
        const res = await agent
          .post('/login')
          .type('form')
          .send({ email: org.email, password: `guess-${i}-wrong`, _csrf: token });
        statuses.push(res.status);
      }
      // The product's limit: 10 failed log-ins per account in 15 minutes.
      expect(statuses.slice(0, 10)).to.deep.equal(Array<number>(10).fill(422));
      expect(statuses.slice(10)).to.deep.equal([429, 429]);
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
