// Sessions are stored only when there is something to keep: a login, or a form
// whose CSRF token must be checked when it comes back.
import type { Server } from 'node:http';
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { backendPid, waitUntilBlockedBy } from '../support/locks.js';

async function sessionRows(): Promise<number> {
  const [row] = await getDb()('sessions').count<{ count: string }[]>('* as count');
  return Number(row.count);
}

/** Hours from now until the session behind this cookie expires. */
async function hoursLeft(setCookie: string[] | string | undefined): Promise<number> {
  const cookie = ([] as string[]).concat(setCookie ?? []).find((c) => c.startsWith('porchlight.sid='));
  if (!cookie) throw new Error('no session cookie was set');
  const sid = decodeURIComponent(cookie.split(';')[0].split('=')[1]).replace(/^s:/, '').split('.')[0];
  const row = await getDb()('sessions').where({ sid }).first<{ expire: Date }>('expire');
  return (row.expire.getTime() - Date.now()) / 3_600_000;
}

describe('anonymous sessions', () => {
  let server: Server | undefined;
  after(() => server?.close());

  it('1,000 anonymous requests that render no form add no session row', async function () {
    this.timeout(60_000);
    // One listening server for all of them (supertest would open one per request).
    const app = (server = testApp().listen(0, '127.0.0.1'));
    const requests: Array<() => supertest.Test> = [
      () => supertest(app).get('/no-such-page'),
      () => supertest(app).get('/'),
      () => supertest(app).get('/customers'),
      () => supertest(app).get('/customers/00000000-0000-4000-8000-000000000000'),
      () => supertest(app).get('/healthz'),
      () => supertest(app).get('/robots.txt'),
      () => supertest(app).get(`/logos/${'0'.repeat(64)}`),
      () => supertest(app).post('/login').type('form').send({ email: 'a@example.test', password: 'x' }),
      () => supertest(app).post('/customers').type('form').send({ first_name: 'x' }),
      () => supertest(app).get('/no-such-page').set('Accept', 'application/json'),
    ];
    const before = await sessionRows();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i += 1) {
      const res = await requests[i % requests.length]();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.headers['set-cookie'] ?? [], `request ${i}`).to.satisfy((c: string[]) => !c.some((v) => v.startsWith('porchlight.sid=')));
    }
    expect(await sessionRows()).to.equal(before);
    expect([...statuses.keys()].sort()).to.deep.equal([200, 302, 403, 404]);
  });

  it('a rendered form starts one short session; logging in replaces it with a 14-day one', async () => {
    const org = await createTestOrg();
    const agent = supertest.agent(testApp());
    const before = await sessionRows();
    const page = await agent.get('/login');
    expect(await sessionRows()).to.equal(before + 1);
    expect(await hoursLeft(page.headers['set-cookie'])).to.be.within(1.9, 2.1);
    await agent.get('/login'); // the same session, not another
    expect(await sessionRows()).to.equal(before + 1);
    const login = await agent
      .post('/login')
      .type('form')
      .send({ email: org.email, password: org.password, _csrf: csrfFrom(page.text) });
    expect(login.status).to.equal(303);
    expect(await hoursLeft(login.headers['set-cookie'])).to.be.within(14 * 24 - 1, 14 * 24 + 1);
    expect(await sessionRows()).to.equal(before + 1); // the form's session was replaced, not kept beside it
  });
});

describe('a redirect after a change to the session', () => {
  it('goes out only once the session is stored, so the next page shows the flash even when the store is slow', async () => {
    const org = await createTestOrg();
    const agent = await loginAgent(org.email, org.password);
    // Hold this user's session row, as a busy store would: the save behind the POST waits for it.
    // Reads are not blocked, so a GET that came early would render the session as it was, without the flash.
    const hold = await getDb().transaction();
    let request: Promise<{ status: number; text: string }> | undefined;
    try {
      const locked = await hold.raw<{ rows: unknown[] }>(`select sid from sessions where sess->>'userId' = ? for update`, [org.userId]);
      expect(locked.rows).to.have.length(1);
      let answered = false;
      request = agent
        .post('/settings/portal/lifetime')
        .type('form')
        .send({ _csrf: agent.csrf, lifetime: '30' })
        .redirects(1)
        .then((res) => {
          answered = true;
          return res;
        });
      // The positive signal that the save reached the held row is Postgres's own, not a sleep.
      expect(await waitUntilBlockedBy(await backendPid(hold)), 'the session save waits on the held row').to.equal(true);
      expect(answered, 'the redirect waited for the session').to.equal(false);
    } finally {
      // Released whatever happened above, so a failure here can't leave the row locked for later specs.
      await hold.commit();
    }
    const res = await request;
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('New portal links expire after 30 days.');
  });
});
