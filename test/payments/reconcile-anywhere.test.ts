// Reconciliation runs wherever jobs run: on a timer inside the web process when
// there is no Redis, once on demand with `npm run reconcile`, and from the
// owner's button on Settings → Payments. Each records a lost payment once, even
// when two runs overlap.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { config } from '../../src/config.js';
import { getDb } from '../../src/db/knex.js';
import { runReconciliation } from '../../src/payments/stripe/reconcile.js';
import { createTestStaff } from '../support/factories.js';
import { csrfFrom, loginAgent } from '../support/http.js';
import { freePort, stopChild, waitForLine } from '../support/processes.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { connectedOrg, invoiceState, metadataFor, openInvoice, startStandIn, stopStandIn, type ConnectedOrg } from './stripe-fixtures.js';

/** An org whose customer paid an invoice at Stripe, and whose webhook never arrived. */
async function lostPayment(standIn: StripeConnectStandIn, amount = 12_500): Promise<{ org: ConnectedOrg; invoiceId: string }> {
  const org = await connectedOrg(standIn);
  const invoiceId = await openInvoice(org.orgId, org.leadId, amount);
  standIn.addPaidCheckout(org.accountId, { amount, currency: 'usd', metadata: metadataFor(org, invoiceId) });
  return { org, invoiceId };
}

async function expectPaidOnce(orgId: string, invoiceId: string): Promise<void> {
  const state = await invoiceState(orgId, invoiceId);
  expect(state.status).to.equal('paid');
  expect(state.payments.filter((p) => p.kind === 'payment')).to.have.length(1);
  const audits = await getDb()('audit_events').where({ org_id: orgId, action: 'payment.recorded' });
  expect(audits).to.have.length(1);
}

/** The same env a deployed process gets, pointed at the stand-in, with no Redis. */
function processEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: process.env.DATABASE_URL,
    APP_SECRET: process.env.APP_SECRET,
    STRIPE_SECRET_KEY: config.stripe.secretKey,
    STRIPE_API_URL: config.stripe.apiUrl,
    ...extra,
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('reconciliation wherever jobs run', function () {
  this.timeout(120_000);
  let standIn: StripeConnectStandIn;

  before(async () => {
    standIn = await startStandIn();
  });
  after(async () => stopStandIn(standIn));

  it('`npm run reconcile` records a lost payment once, even with two runs at the same moment', async () => {
    const { org, invoiceId } = await lostPayment(standIn);
    const args = ['--org', org.orgId];
    const [viaNpm, direct] = await Promise.all([
      run('npm', ['run', '--silent', 'reconcile', '--', ...args], processEnv()),
      run(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', ...args], processEnv()),
    ]);
    for (const result of [viaNpm, direct]) {
      expect(result.code, result.output).to.equal(0);
      expect(result.output).to.match(/Reconciled 1 connected org\(s\): [01] payment\(s\)/);
    }
    // Between them, exactly one recorded it.
    const recorded = [viaNpm, direct].map((r) => Number(/(\d) payment\(s\)/.exec(r.output)![1]));
    expect(recorded.sort()).to.deep.equal([0, 1]);
    await expectPaidOnce(org.orgId, invoiceId);

    const again = await run(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', ...args], processEnv());
    expect(again.output).to.contain('Reconciled 1 connected org(s): 0 payment(s) and 0 refund(s) recorded, 0 failed.');
  });

  it('`npm run reconcile` exits 1 naming the org whose check failed, and refuses a bad --org', async () => {
    const org = await connectedOrg(standIn);
    standIn.refuseAccount(org.accountId);
    const failed = await run(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', '--org', org.orgId], processEnv());
    expect(failed.code).to.equal(1);
    expect(failed.output).to.contain('0 payment(s) and 0 refund(s) recorded, 1 failed.');
    expect(failed.output).to.contain(`${org.orgId}: Stripe refused access to your connected account (401)`);
    const bad = await run(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', '--org', 'not-a-uuid'], processEnv());
    expect(bad.code).to.equal(1);
    expect(bad.output).to.contain('--org takes an organization id');
  });

  it('passes that overlap record each lost payment once', async () => {
    const lost = await Promise.all([lostPayment(standIn, 1_000), lostPayment(standIn, 2_000), lostPayment(standIn, 3_000)]);
    const orgIds = lost.map((l) => l.org.orgId);
    const passes = await Promise.all(Array.from({ length: 5 }, () => runReconciliation({ orgIds })));
    expect(passes.reduce((n, p) => n + p.payments, 0)).to.equal(3);
    expect(passes.every((p) => p.failed === 0)).to.equal(true);
    for (const { org, invoiceId } of lost) await expectPaidOnce(org.orgId, invoiceId);
  });

  it('the owner’s “Check Stripe now” records a lost payment once, twice at once included, and says what it did', async () => {
    const { org, invoiceId } = await lostPayment(standIn);
    const agent = await loginAgent(org.email, org.password);
    const page = await agent.get('/settings/payments');
    expect(page.text).to.contain('Check Stripe now');
    const csrf = csrfFrom(page.text);
    const [a, b] = await Promise.all([
      agent.post('/settings/payments/reconcile').type('form').send({ _csrf: csrf }),
      agent.post('/settings/payments/reconcile').type('form').send({ _csrf: csrf }),
    ]);
    expect([a.status, b.status]).to.deep.equal([303, 303]);
    await expectPaidOnce(org.orgId, invoiceId);
    const shown = await agent.get('/settings/payments');
    expect(shown.text).to.match(
      /Checked Stripe: (1 missed payment and 0 missed refunds recorded|every payment and refund was already recorded)/,
    );

    const again = await agent.post('/settings/payments/reconcile').type('form').send({ _csrf: csrf });
    expect(again.status).to.equal(303);
    expect((await agent.get('/settings/payments')).text).to.contain('Checked Stripe: every payment and refund was already recorded.');
    await expectPaidOnce(org.orgId, invoiceId);
  });

  it('the button is the owner’s only, and needs the form’s CSRF token', async () => {
    const { org, invoiceId } = await lostPayment(standIn);
    const staff = await createTestStaff(org.orgId);
    const staffAgent = await loginAgent(staff.email, staff.password);
    const staffPage = await staffAgent.get('/settings/payments');
    expect(staffPage.text).not.to.contain('Check Stripe now');
    const refused = await staffAgent.post('/settings/payments/reconcile').type('form').send({ _csrf: staffAgent.csrf });
    expect(refused.status).to.equal(403);
    const owner = await loginAgent(org.email, org.password);
    const noToken = await owner.post('/settings/payments/reconcile').type('form').send({});
    expect(noToken.status).to.equal(403);
    expect((await invoiceState(org.orgId, invoiceId)).payments).to.have.length(0);
  });

  it('a web process without REDIS_URL reconciles on its own schedule', async () => {
    const { org, invoiceId } = await lostPayment(standIn);
    const port = await freePort();
    let web: ChildProcess | undefined;
    try {
      web = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: processEnv({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await waitForLine(web, /Stripe reconciliation runs in this process/, 60_000);
      await until('the lost payment to be recorded', async () => (await invoiceState(org.orgId, invoiceId)).status === 'paid', 60_000);
      await expectPaidOnce(org.orgId, invoiceId);
    } finally {
      await stopChild(web);
    }
  });
});
