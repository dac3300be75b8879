// Sessions are stored only when there is something to keep: a login, or a form
// whose CSRF token must be checked when it comes back.
import type { Server } from 'node:http';
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { createTestOrg } from '../support/factories.js';
import { csrfFrom, testApp } from '../support/http.js';

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
