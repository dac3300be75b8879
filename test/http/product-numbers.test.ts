// The product's numbers, written here literally and never imported from src/:
// a test that reads a limit from the code under test passes whatever the limit
// is. Where DESIGN.md states a number (10 active links on Free, the portal's
// pages of 25) it is quoted; the rest are the limits the product ships with,
// pinned so that changing one is a deliberate edit here as well.
import { expect } from 'chai';
import supertest from 'supertest';
import { csrfToken, testApp } from '../support/http.js';
import sharp from 'sharp';
import { getDb } from '../../src/db/knex.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { linkFor } from '../portal/support.js';
import { passwordWeakness } from '../../src/auth/passwords.js';
import { translate } from '../../src/i18n/index.js';

const MINUTE = 60;
const HOUR = 60 * MINUTE;

/** Every rate limit a stranger can hit: [quota, window in seconds], in the order the route applies them. */
const RATE_LIMITS: { name: string; method: 'get' | 'post'; url: string; body?: Record<string, string>; policies: [number, number][] }[] = [
  {
    name: 'log-in: per address, then per address and account',
    method: 'post',
    url: '/login',
    policies: [
      [100, 15 * MINUTE],
      [10, 15 * MINUTE],
    ],
  },
  {
    name: 'sign-up: per address, then per email address',
    method: 'post',
    url: '/signup',
    body: { email: 'numbers@example.test' },
    policies: [
      [20, HOUR],
      [5, HOUR],
    ],
  },
  {
    name: 'password reset request: per address, then per address and account',
    method: 'post',
    url: '/forgot-password',
    body: { email: 'numbers@example.test' },
    policies: [
      [30, HOUR],
      [5, 15 * MINUTE],
    ],
  },
  { name: 'invitation link', method: 'get', url: `/invite/${'x'.repeat(43)}`, policies: [[60, 15 * MINUTE]] },
  { name: 'sign-up confirmation link', method: 'get', url: `/signup/${'x'.repeat(43)}`, policies: [[60, 15 * MINUTE]] },
  { name: 'password reset link', method: 'get', url: `/reset-password/${'x'.repeat(43)}`, policies: [[60, 15 * MINUTE]] },
  { name: 'portal: failed token lookups per client', method: 'get', url: `/p/${'A'.repeat(43)}`, policies: [[20, 10 * MINUTE]] },
  { name: 'way back from Stripe Checkout', method: 'get', url: `/return/${'x'.repeat(43)}`, policies: [[30, 10 * MINUTE]] },
];

function policies(header: unknown): [number, number][] {
  return (typeof header === 'string' ? header : '')
    .split(/,\s*(?=")/)
    .filter(Boolean)
    .map((policy) => [Number(/;\s*q=(\d+)/.exec(policy)?.[1]), Number(/;\s*w=(\d+)/.exec(policy)?.[1])]);
}

describe('the product’s numbers, stated literally', () => {
  for (const limit of RATE_LIMITS) {
    it(`rate limit: ${limit.name} = ${limit.policies.map(([q, w]) => `${q} per ${w / 60} min`).join(', ')}`, async () => {
      const agent = supertest.agent(testApp());
      let res;
      if (limit.method === 'post') {
        const token = await csrfToken(agent);
        res = await agent
          .post(limit.url)
          .type('form')
          .send({ _csrf: token, email: 'numbers@example.test', password: 'wrong-password-guess', ...limit.body });
      } else {
        res = await agent.get(limit.url);
      }
      expect(res.status).to.be.below(429);
      expect(policies(res.headers['ratelimit-policy'])).to.deep.equal(limit.policies);
    });
  }

  it('portal payment attempts: 20 per 10 minutes per client', async () => {
    const res = await supertest(testApp())
      .post(`/p/${'A'.repeat(43)}/invoices/00000000-0000-4000-8000-000000000000/pay`)
      .type('form')
      .send({});
    expect(policies(res.headers['ratelimit-policy'])[0]).to.deep.equal([20, 10 * MINUTE]);
  });

  it('portal requests for work and to reschedule: 10 per hour per client', async () => {
    for (const url of [`/p/${'A'.repeat(43)}/request`, `/p/${'A'.repeat(43)}/visits/00000000-0000-4000-8000-000000000000/reschedule`]) {
      const res = await supertest(testApp()).post(url).type('form').send({});
      expect(policies(res.headers['ratelimit-policy'])[0], url).to.deep.equal([10, HOUR]);
    }
  });

  it('portal request photos: at most 5 per request, 10 MB each (re-encoded to at most 1600 px a side)', async () => {
    const org = await createTestOrg({ plan: 'starter' });
    const lead = await createTestLead(org.orgId);
    const { token } = await linkFor(org.orgId, lead.id);
    const page = await supertest(testApp()).get(`/p/${token}/request`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1].replace(/&#x3D;/g, '=');
    const send = (files: Buffer[]) => {
      let req = supertest(testApp()).post(`/p/${token}/request`).field('_csrf', csrf).field('description', 'Numbers');
      for (const file of files) req = req.attach('photos', file, 'photo.png');
      return req;
    };
    const png = await sharp({ create: { width: 2000, height: 100, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    expect((await send(Array<Buffer>(6).fill(png))).status).to.equal(400);
    expect((await send([Buffer.alloc(10 * 1024 * 1024 + 1)])).status).to.equal(413);
    expect((await send(Array<Buffer>(5).fill(png))).status).to.equal(303);
    const widths = await getDb()('work_request_photos').where({ org_id: org.orgId }).pluck('width');
    expect(widths).to.deep.equal([1600, 1600, 1600, 1600, 1600]);
  });

  it('portal "Send me my link again": 10 per hour per client, then 3 per hour per address', async () => {
    const page = await supertest(testApp()).get(`/p/${'A'.repeat(43)}`);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const res = await supertest(testApp()).post('/p/recover').type('form').send({ _csrf: token, address: 'numbers@example.test' });
    expect(res.status).to.equal(200);
    expect(policies(res.headers['ratelimit-policy'])).to.deep.equal([
      [10, HOUR],
      [3, HOUR],
    ]);
  });

  it('log-in: the 11th wrong password for one account in 15 minutes is refused (429), even if right', async function () {
    this.timeout(30_000);
    const org = await createTestOrg();
    const agent = supertest.agent(testApp());
    const token = await csrfToken(agent);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) {
      const res = await agent
        .post('/login')
        .type('form')
        .send({ email: org.email, password: `guess-${i}-wrong`, _csrf: token });
      statuses.push(res.status);
    }
    expect(statuses).to.deep.equal([...Array<number>(10).fill(422), 429]);
    const right = await agent.post('/login').type('form').send({ email: org.email, password: org.password, _csrf: token });
    expect(right.status).to.equal(429);
  });

  it('passwords: at least 10 characters', () => {
    const strong = 'Kq8#vT2!mZ';
    expect(strong).to.have.length(10);
    expect(passwordWeakness(strong)).to.equal(null);
    expect(translate('en', passwordWeakness(strong.slice(0, 9)))).to.equal('Use at least 10 characters.');
  });
});
