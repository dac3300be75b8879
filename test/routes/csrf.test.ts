// Every state-changing route the app serves, read from the app itself: without a
// valid CSRF token it answers 403 and changes nothing in the database. A router
// mounted later that this file doesn't know fails the first test loudly, and a
// route added to a known router is walked automatically.
import { expect } from 'chai';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { adminRoutes, MOUNTED_ROUTERS, routeUrl, seedRouteFixtures, type Fixture, type RouteInfo } from '../support/route-walk.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';
import { seedCustomerRecords } from '../portal/fixtures.js';

/**
 * Routers mounted without CSRF checks, and why. Nothing else may be: a webhook
 * comes from Stripe or Twilio, never from a browser holding a session, and its
 * signature (checked over the raw body) is what authenticates it.
 */
const EXEMPT: Record<string, string> = {
  '/webhooks/stripe/platform': 'Stripe platform webhook: Stripe-Signature checked over the raw body',
  '/webhooks/stripe': 'Stripe Connect webhook: Stripe-Signature checked over the raw body',
  '/webhooks/twilio': 'Twilio status callback: X-Twilio-Signature checked',
};

const exempt = MOUNTED_ROUTERS.filter((r) => r.mount in EXEMPT);
const checkedRouters = MOUNTED_ROUTERS.filter((r) => !(r.mount in EXEMPT));

interface StackLayer {
  route?: unknown;
  handle?: { stack?: unknown[] };
}

/** The routers mounted directly on the app (Express 5 keeps them in app.router.stack). */
function mountedRouters(): unknown[] {
  const stack = (testApp() as unknown as { router: { stack: StackLayer[] } }).router.stack;
  return stack.filter((layer) => !layer.route && Array.isArray(layer.handle?.stack)).map((layer) => layer.handle);
}

function stateChanging(routes: RouteInfo[]): RouteInfo[] {
  return routes.map((r) => ({ ...r, methods: r.methods.filter((m) => m !== 'get') })).filter((r) => r.methods.length > 0);
}

/** Row count and digest of every table that holds data (sessions excepted: a form page may start one). */
async function snapshot(): Promise<Record<string, string>> {
  const { rows: tables } = await getDb().raw<{ rows: { table_name: string }[] }>(
    `select table_name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE'
        and table_name not in ('sessions', 'knex_migrations', 'knex_migrations_lock') order by table_name`,
  );
  expect(tables.map((t) => t.table_name)).to.include.members(['leads', 'organizations', 'users', 'payments', 'signup_requests']);
  const out: Record<string, string> = {};
  for (const { table_name: table } of tables) {
    const { rows } = await getDb().raw<{ rows: { n: number; digest: string }[] }>(
      `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ?? t`,
      [table],
    );
    out[table] = `${rows[0].n}:${rows[0].digest}`;
  }
  return out;
}

const BODY = {
  amount: '1.00',
  method: 'cash',
  status: 'completed',
  stage: 'won',
  reason: 'x',
  approverName: 'Mallory',
  approver_name: 'Mallory',
  role: 'staff',
  first_name: 'Mallory',
  email: 'mallory@example.test',
  password: 'a-long-enough-password-for-mallory',
  name: 'Mallory',
  title: 'x',
  service_type: 'x',
  channel: 'sms',
  context: 'general',
  issue_date: '2026-11-01',
  due_date: '2026-11-02',
};

describe('CSRF on every state-changing route', () => {
  it('knows every router the app mounts: each is walked for CSRF or listed as exempt with a reason', () => {
    expect(mountedRouters()).to.have.length.greaterThan(10);
    const known = new Set<unknown>(MOUNTED_ROUTERS.map((r) => r.router));
    const unknown = mountedRouters().filter((r) => !known.has(r));
    expect(unknown, 'a router mounted in src/app.ts is missing from MOUNTED_ROUTERS in test/support/route-walk.ts').to.have.length(0);
    expect(exempt.map((r) => r.mount)).to.have.members(Object.keys(EXEMPT));
    for (const { router } of exempt) expect(stateChanging(adminRoutes([router])).length).to.be.greaterThan(0);
  });

  it('exempt webhooks still refuse a request without a valid signature and change nothing', async function () {
    this.timeout(60_000);
    const before = await snapshot();
    for (const { router, mount } of exempt) {
      for (const route of stateChanging(adminRoutes([router]))) {
        for (const method of route.methods) {
          const url = `${mount}${route.path === '/' ? '' : route.path}`;
          const client = supertest(testApp());
          const res = await client[method as 'post'](url)
            .set('Content-Type', 'application/json')
            .set('Stripe-Signature', 't=1,v1=00')
            .set('X-Twilio-Signature', 'AAAA')
            .send('{"id":"evt_forged","type":"payment_intent.succeeded"}');
          expect(res.status, `${method.toUpperCase()} ${url}`).to.be.at.least(400);
        }
      }
    }
    expect(await snapshot()).to.deep.equal(before);
  });

  it('answers 403 without a valid token on every admin, account and portal route, and changes nothing', async function () {
    this.timeout(240_000);
    const org = await createTestOrg({ plan: 'pro' });
    const fx: Fixture = await seedRouteFixtures(org);
    // A pending proposal and an open invoice the portal could act on, had it no check.
    const lead = await createTestLead(org.orgId);
    const records = await seedCustomerRecords(org.orgId, lead.id, { proposals: 1, pendingProposals: 1, invoices: 1, openInvoices: 1 });
    const portal = await linkFor(org.orgId, lead.id);
    await resetPortalMisses();

    const agent = await loginAgent(org.email, org.password);
    // A real token, but of another session: as good as none.
    const other = supertest.agent(testApp());
    const foreignToken = csrfFrom((await other.get('/login')).text);

    const before = await snapshot();
    const checked: string[] = [];
    const attempts: { name: string; token?: string; multipart?: boolean }[] = [
      { name: 'no token' },
      { name: 'another session’s token', token: foreignToken },
      { name: 'multipart, no token', multipart: true },
    ];
    for (const { router, mount } of checkedRouters) {
      for (const route of stateChanging(adminRoutes([router]))) {
        const path =
          mount === '/p'
            ? `/p${route.path.replace(':token', portal.token).replace(':id', route.path.includes('/invoices/') ? records.invoiceIds[0] : records.pendingProposalIds[0])}`
            : routeUrl(route.path.replace(':token', 'x'.repeat(43)), fx);
        for (const method of route.methods) {
          for (const attempt of attempts) {
            const req = agent[method as 'post' | 'put' | 'patch' | 'delete'](path);
            const res = attempt.multipart
              ? await req.field('approverName', 'Mallory').field('amount', '1.00').attach('logo', Buffer.from('x'), 'logo.png')
              : await req.type('form').send(attempt.token ? { ...BODY, _csrf: attempt.token } : BODY);
            expect(res.status, `${method.toUpperCase()} ${path} (${attempt.name})`).to.equal(403);
          }
          checked.push(`${method.toUpperCase()} ${mount}${route.path}`);
        }
      }
    }
    // The walk really covered the account routes and the portal's decisions and payment.
    expect(checked).to.include.members([
      'POST /login',
      'POST /logout',
      'POST /signup',
      'POST /forgot-password',
      'POST /p/:token/proposals/:id/approve',
      'POST /p/:token/proposals/:id/reject',
      'POST /p/:token/request',
      'POST /p/:token/visits/:id/reschedule',
      'POST /p/:token/invoices/:id/pay',
      'POST /settings/branding/logo',
    ]);
    expect(checked.length).to.be.greaterThan(30);
    expect(await snapshot()).to.deep.equal(before);
    // Still logged in: a forged logout did not end the session.
    expect((await agent.get('/')).status).to.equal(200);
  });
});
