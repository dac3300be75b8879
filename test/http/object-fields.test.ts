// Every form, fed fields that arrive as objects (`email[toString]=x`,
// `name[__proto__][x]=1`, `name[key]=x`, `name[]=a&name[]=b`): a 4xx with a
// message, never a 500, and nothing written. (Query strings can't carry objects:
// Express 5 parses them with the simple parser.)
import { expect } from 'chai';
import supertest from 'supertest';
import { inviteMember, requestPasswordReset } from '../../src/auth/commands.js';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { parseForm } from '../../src/lib/forms.js';
import { activePortalLink } from '../../src/portal-links/queries.js';
import { portalFormToken } from '../../src/portal-links/token.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { adminRoutes, routeUrl, seedRouteFixtures, type Fixture } from '../support/route-walk.js';
import { createTestOrg, uniqueEmail, type TestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp, type Agent } from '../support/http.js';
import type { StripeConnectStandIn } from '../../src/dev/stripe-standin.js';
import { startStandIn, stopStandIn } from '../payments/stripe-fixtures.js';

/** How one field is sent as an object (or an array) instead of a string. */
const SHAPES: Array<{ name: string; encode: (field: string) => string }> = [
  { name: '[toString]', encode: (f) => `${f}%5BtoString%5D=x` },
  { name: '[__proto__]', encode: (f) => `${f}%5B__proto__%5D%5Bpolluted%5D=1` },
  { name: '[key]', encode: (f) => `${f}%5Bkey%5D=x` },
  { name: '[]', encode: (f) => `${f}%5B%5D=a&${f}%5B%5D=b` },
];

interface Form {
  /** e.g. 'POST /login' */
  label: string;
  path: string;
  fields: string[];
  /** Who posts: a stranger (with a form session), the owner, or the customer on the portal. */
  as: 'anonymous' | 'owner' | 'portal';
}

interface World {
  org: TestOrg;
  fx: Fixture;
  owner: Agent & { csrf: string };
  portalToken: string;
  portalLinkId: string;
  pendingProposalId: string;
  resetToken: string;
  inviteToken: string;
}

const CUSTOMER = ['first_name', 'last_name', 'email', 'phone', 'address', 'company', 'internal_notes'];
const PROPOSAL = ['lead_id', 'title', 'items', 'tax_rate', 'valid_until', 'customer_message', 'internal_notes'];
const JOB = ['lead_id', 'service_type', 'scheduled_date', 'scheduled_time', 'technician', 'address', 'customer_notes', 'internal_notes'];
const INVOICE = ['lead_id', 'job_id', 'proposal_id', 'issue_date', 'due_date', 'tax_rate', 'items', 'customer_message', 'internal_notes'];
const TEMPLATE = ['channel', 'context', 'subject', 'body', 'intent'];
const BRANDING = ['name', 'phone', 'email', 'address', 'brand_color', 'whatsapp_number', 'time_zone', 'currency', 'locale'];

function forms(w: World): Form[] {
  const p = `/p/${w.portalToken}`;
  return [
    { label: 'log in', path: '/login', fields: ['email', 'password', 'next'], as: 'anonymous' },
    { label: 'sign up', path: '/signup', fields: ['orgName', 'name', 'email', 'password'], as: 'anonymous' },
    { label: 'forgot password', path: '/forgot-password', fields: ['email'], as: 'anonymous' },
    { label: 'reset password', path: `/reset-password/${w.resetToken}`, fields: ['password'], as: 'anonymous' },
    { label: 'accept invitation', path: `/invite/${w.inviteToken}`, fields: ['name', 'password'], as: 'anonymous' },
    {
      label: 'portal approve',
      path: `${p}/proposals/${w.pendingProposalId}/approve`,
      fields: ['approverName', 'agree', 'contentSha256'],
      as: 'portal',
    },
    { label: 'portal reject', path: `${p}/proposals/${w.pendingProposalId}/reject`, fields: ['reason'], as: 'portal' },
    { label: 'portal pay', path: `${p}/invoices/${w.fx.invoice}/pay`, fields: ['amount'], as: 'portal' },
    { label: 'new customer', path: '/customers', fields: CUSTOMER, as: 'owner' },
    { label: 'edit customer', path: `/customers/${w.fx.lead}`, fields: CUSTOMER, as: 'owner' },
    { label: 'customer stage', path: `/customers/${w.fx.lead}/stage`, fields: ['stage'], as: 'owner' },
    { label: 'new proposal', path: '/proposals', fields: PROPOSAL, as: 'owner' },
    { label: 'edit proposal', path: `/proposals/${w.pendingProposalId}`, fields: PROPOSAL, as: 'owner' },
    { label: 'reject proposal', path: `/proposals/${w.pendingProposalId}/reject`, fields: ['reason'], as: 'owner' },
    { label: 'approve proposal', path: `/proposals/${w.pendingProposalId}/approve`, fields: ['approver_name'], as: 'owner' },
    { label: 'new job', path: '/jobs', fields: JOB, as: 'owner' },
    { label: 'edit job', path: `/jobs/${w.fx.job}`, fields: JOB, as: 'owner' },
    { label: 'job status', path: `/jobs/${w.fx.job}/status`, fields: ['status'], as: 'owner' },
    { label: 'new invoice', path: '/invoices', fields: INVOICE, as: 'owner' },
    { label: 'edit invoice', path: `/invoices/${w.fx.invoice}`, fields: INVOICE, as: 'owner' },
    { label: 'record payment', path: `/invoices/${w.fx.invoice}/payments`, fields: ['amount', 'method', 'paid_on'], as: 'owner' },
    { label: 'refund', path: `/payments/${w.fx.payment}/refund`, fields: ['amount'], as: 'owner' },
    { label: 'send portal link', path: `/customers/${w.fx.lead}/send`, fields: ['channel', 'context', 'confirmTo'], as: 'owner' },
    { label: 'message template', path: '/settings/messages', fields: TEMPLATE, as: 'owner' },
    { label: 'template preview', path: '/settings/messages/preview', fields: TEMPLATE, as: 'owner' },
    { label: 'branding', path: '/settings/branding', fields: BRANDING, as: 'owner' },
    { label: 'invite member', path: '/settings/team/invitations', fields: ['email'], as: 'owner' },
    { label: 'member role', path: `/settings/team/members/${w.fx.member}/role`, fields: ['role'], as: 'owner' },
    { label: 'plan checkout', path: '/settings/billing/checkout', fields: ['plan'], as: 'owner' },
  ];
}

/** Every table's rows, as one digest per table (sessions aside: a rendered form may start one). */
async function snapshot(): Promise<Record<string, string>> {
  const { rows: tables } = await getDb().raw<{ rows: { name: string }[] }>(
    // The visit log records every page served, the error page included: a view, not a write of the form.
    "select tablename as name from pg_tables where schemaname = 'public' and tablename not in ('sessions', 'knex_migrations', 'knex_migrations_lock', 'portal_visits')",
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    // A portal page counts its views; showing the page again with the error is not a write of the form.
    const row =
      name === 'portal_links'
        ? "to_jsonb(t) - 'view_count' - 'last_viewed_at'"
        : name === 'proposals' || name === 'invoices'
          ? "to_jsonb(t) - 'first_viewed_at'"
          : 't::text';
    const { rows } = await getDb().raw<{ rows: { digest: string }[] }>(
      `select count(*) || ':' || md5(coalesce(string_agg((${row})::text, '|' order by (${row})::text), '')) as digest from ?? t`,
      [name],
    );
    out[name] = rows[0].digest;
  }
  return out;
}

/** The message the page or JSON gave, or '' when there is none. */
function messageOf(res: supertest.Response): string {
  const json = res.body as { message?: unknown; error?: unknown } | undefined;
  if (res.type === 'application/json')
    return typeof json?.message === 'string' ? json.message : typeof json?.error === 'string' ? json.error : '';
  const patterns = [/<p class="error"[^>]*>([^<]+)</, /class="flash flash-error"[^>]*>([^<]+)</, /<h1>[^<]*<\/h1>\s*<p>([^<]+)<\/p>/];
  for (const pattern of patterns) {
    const match = pattern.exec(res.text);
    if (match?.[1]?.trim()) return match[1].trim();
  }
  return '';
}

describe('form fields that arrive as objects', function () {
  this.timeout(120_000);
  let w: World;

  let standIn: StripeConnectStandIn;

  before(async () => {
    // The pay form (and so its error) shows only for an org that takes payments.
    standIn = await startStandIn();
    const org = await createTestOrg({ plan: 'pro' });
    const account = standIn.addAccount({ charges_enabled: true, details_submitted: true });
    await withOrg(org.orgId, (db) =>
      db('organizations').where({ id: org.orgId }).update({ stripe_account_id: account.id, stripe_charges_enabled: true }),
    );
    const fx = await seedRouteFixtures(org);
    const actor = { type: 'user' as const, userId: org.userId };
    const { portalUrl, linkId, pendingProposalId, inviteToken } = await withOrg(org.orgId, async (db) => {
      const link = await activePortalLink(db, fx.lead);
      const proposal = await createProposal(
        db,
        parseForm(proposalFormSchema('USD'), {
          lead_id: fx.lead,
          title: 'Pending work',
          items: [{ service: 'Y', quantity: '1', unit_price: '50' }],
        }),
        actor,
      );
      await markProposalSent(db, proposal.id, actor);
      const invitation = await inviteMember(db, { orgId: org.orgId, email: uniqueEmail('invitee'), invitedBy: org.userId, actor });
      return { portalUrl: link!.url, linkId: link!.id, pendingProposalId: proposal.id, inviteToken: invitation.token };
    });
    const reset = await requestPasswordReset(org.email);
    w = {
      org,
      fx,
      owner: await loginAgent(org.email, org.password),
      portalToken: portalUrl.split('/p/')[1],
      portalLinkId: linkId,
      pendingProposalId,
      resetToken: reset!.token,
      inviteToken,
    };
  });

  after(async () => stopStandIn(standIn));

  /** A form post with the field(s) given as raw urlencoded text, and the CSRF token the poster has. */
  async function post(form: Form, encodedFields: string): Promise<supertest.Response> {
    if (form.as === 'owner') {
      return w.owner
        .post(form.path)
        .type('form')
        .send(`_csrf=${encodeURIComponent(w.owner.csrf)}&${encodedFields}`);
    }
    if (form.as === 'portal') {
      return supertest(testApp())
        .post(form.path)
        .type('form')
        .send(`_csrf=${encodeURIComponent(portalFormToken(w.portalLinkId))}&${encodedFields}`);
    }
    const agent = supertest.agent(testApp());
    const page = await agent.get(form.path);
    return agent
      .post(form.path)
      .type('form')
      .send(`_csrf=${encodeURIComponent(csrfFrom(page.text))}&${encodedFields}`);
  }

  it('answers every form with a 4xx and a message for each shape, never a 500, and writes nothing', async () => {
    const before = await snapshot();
    const seen: string[] = [];
    for (const form of forms(w)) {
      for (const shape of SHAPES) {
        const res = await post(form, form.fields.map(shape.encode).join('&'));
        const what = `${form.label} (POST ${form.path}) with ${shape.name}: ${res.status}`;
        expect(res.status, what).to.be.within(400, 499);
        expect(messageOf(res), `${what} has no message`).not.to.equal('');
        seen.push(`${what} ${messageOf(res)}`);
      }
    }
    expect(await snapshot()).to.deep.equal(before);
    expect(seen).to.have.length(forms(w).length * SHAPES.length);
  });

  it('refuses `[toString]` on every POST route of the dashboard with 400, naming the field, and writes nothing', async () => {
    const before = await snapshot();
    const routes = adminRoutes().filter((r) => r.methods.includes('post'));
    expect(routes.length).to.be.greaterThan(30);
    for (const route of routes) {
      const url = routeUrl(route.path, w.fx);
      const res = await w.owner
        .post(url)
        .type('form')
        .send(`_csrf=${encodeURIComponent(w.owner.csrf)}&note%5BtoString%5D=x`);
      expect(res.status, `POST ${url}`).to.equal(400);
      expect(messageOf(res), `POST ${url}`).to.contain('note[toString]');
    }
    expect(await snapshot()).to.deep.equal(before);
  });
});
