// Every admin route, read from the routers themselves: org B's ids through org
// A's session answer 404, exactly like a missing id, and change nothing in B.
// A route added later is covered automatically; a parameter this file cannot
// map fails loudly — add it to PARAM_FIXTURES.
import { expect } from 'chai';
import type { Router } from 'express';
import { ADMIN_ROUTERS } from '../../src/app.js';
import { getDb } from '../../src/db/knex.js';
import { tenantTables, withOrg } from '../../src/db/tenancy.js';
import type { Actor } from '../../src/db/audit.js';
import { parseForm } from '../../src/lib/forms.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { setJobStatus } from '../../src/jobs/commands.js';
import { createInvoiceFromJob, issueInvoice } from '../../src/invoices/commands.js';
import { recordPayment } from '../../src/payments/manual.js';
import { csrfFrom, loginAgent } from '../support/http.js';
import { createTestLead, createTestOrg, createTestStaff } from '../support/factories.js';

interface Fixture {
  lead: string;
  proposal: string;
  job: string;
  invoice: string;
  payment: string;
  portalLink: string;
  delivery: string;
  invitation: string;
  member: string;
}

/**
 * Which fixture id replaces a route parameter: by "<segment before it>:<param>"
 * first (/customers/:id → "customers:id"), then by parameter name alone.
 */
const PARAM_FIXTURES: Record<string, keyof Fixture> = {
  'customers:id': 'lead',
  'proposals:id': 'proposal',
  'jobs:id': 'job',
  'invoices:id': 'invoice',
  'payments:id': 'payment',
  'messages:id': 'delivery',
  'portal-links:id': 'portalLink',
  'links:id': 'portalLink',
  'deliveries:id': 'delivery',
  'invitations:id': 'invitation',
  'members:id': 'member',
  leadId: 'lead',
  customerId: 'lead',
  proposalId: 'proposal',
  jobId: 'job',
  invoiceId: 'invoice',
  paymentId: 'payment',
  linkId: 'portalLink',
  portalLinkId: 'portalLink',
  deliveryId: 'delivery',
};

interface RouteInfo {
  path: string;
  methods: string[];
}

interface LayerLike {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

/** Every (path, methods) an admin router serves, including nested routers mounted at '/'. */
export function adminRoutes(routers: Router[] = ADMIN_ROUTERS): RouteInfo[] {
  const out: RouteInfo[] = [];
  const walk = (stack: LayerLike[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all' && m !== 'head');
        for (const path of paths) out.push({ path, methods });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  for (const router of routers) walk((router as unknown as { stack: LayerLike[] }).stack);
  return out;
}

function substitute(path: string, fx: Fixture): string {
  return path.replace(/([^/]*)\/:(\w+)/g, (_m, segment: string, name: string) => {
    const key = PARAM_FIXTURES[`${segment}:${name}`] ?? PARAM_FIXTURES[name];
    if (!key) {
      throw new Error(
        `cross-org test: no fixture for ":${name}" in ${path}. Add "${segment}:${name}" or "${name}" to PARAM_FIXTURES in test/routes/cross-org.test.ts`,
      );
    }
    return `${segment}/${fx[key]}`;
  });
}

async function snapshot(orgId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of [...(await tenantTables()), 'organizations']) {
    const column = table === 'organizations' ? 'id' : 'org_id';
    const { rows } = await getDb().raw<{ rows: { n: number; digest: string | null }[] }>(
      `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ?? t where ?? = ?`,
      [table, column, orgId],
    );
    out[table] = `${rows[0].n}:${rows[0].digest}`;
  }
  return out;
}

async function seedOrgB(): Promise<{ orgId: string; fx: Fixture }> {
  const org = await createTestOrg({ plan: 'pro' });
  const actor: Actor = { type: 'user', userId: org.userId };
  const lead = await createTestLead(org.orgId);
  const staff = await createTestStaff(org.orgId);
  const fx = await withOrg(org.orgId, async (db) => {
    const proposal = await createProposal(
      db,
      parseForm(proposalFormSchema('USD'), {
        lead_id: lead.id,
        title: 'B work',
        items: [{ service: 'X', quantity: '1', unit_price: '100' }],
      }),
      actor,
    );
    await markProposalSent(db, proposal.id, actor);
    const { jobId } = await approveProposal(db, proposal.id, { source: 'staff', approverName: 'B' }, actor);
    await setJobStatus(db, jobId, 'completed', actor);
    const invoice = await createInvoiceFromJob(db, jobId, { currency: 'USD', time_zone: 'UTC' }, actor);
    await issueInvoice(db, invoice.id, actor);
    const { payment } = await recordPayment(db, { invoiceId: invoice.id, amountCents: 1000, method: 'cash' }, actor);
    const [link] = await db('portal_links')
      .insert({ org_id: org.orgId, lead_id: lead.id, token_sha256: 'b'.repeat(64), token_ciphertext: 'x' })
      .returning<{ id: string }[]>('id');
    const [delivery] = await db('message_deliveries')
      .insert({ org_id: org.orgId, lead_id: lead.id, portal_link_id: link.id, channel: 'sms', to_address: '+15555550100', body_text: 'hi' })
      .returning<{ id: string }[]>('id');
    const [invitation] = await db('invitations')
      .insert({
        org_id: org.orgId,
        email: 'invitee-b@example.test',
        token_sha256: 'c'.repeat(64),
        invited_by: org.userId,
        expires_at: db.raw("now() + interval '7 days'"),
      })
      .returning<{ id: string }[]>('id');
    return {
      lead: lead.id,
      proposal: proposal.id,
      job: jobId,
      invoice: invoice.id,
      payment: payment.id,
      portalLink: link.id,
      delivery: delivery.id,
      invitation: invitation.id,
      member: staff.userId,
    };
  });
  return { orgId: org.orgId, fx };
}

/** A body plausible for most forms, so a route that validated before loading would not hide a leak behind a 422. */
const PLAUSIBLE_BODY = {
  amount: '1.00',
  method: 'cash',
  status: 'completed',
  stage: 'won',
  reason: 'x',
  approver_name: 'Mallory',
  role: 'staff',
  first_name: 'Mallory',
  title: 'x',
  service_type: 'x',
  channel: 'sms',
  context: 'general',
  issue_date: '2026-11-01',
  due_date: '2026-11-02',
};

describe('cross-org access to every admin route', () => {
  it('maps every route parameter to a fixture (fails loudly for new, unmapped params)', () => {
    const fx: Fixture = {
      lead: 'L',
      proposal: 'P',
      job: 'J',
      invoice: 'I',
      payment: 'Y',
      portalLink: 'K',
      delivery: 'D',
      invitation: 'V',
      member: 'M',
    };
    const routes = adminRoutes();
    expect(routes.length).to.be.greaterThan(20);
    for (const route of routes) substitute(route.path, fx);
  });

  it('answers 404 for org B’s ids through org A’s session and changes nothing in org B', async function () {
    this.timeout(120_000);
    const orgA = await createTestOrg({ plan: 'pro' });
    await createTestLead(orgA.orgId);
    const { orgId: orgB, fx } = await seedOrgB();
    const agent = await loginAgent(orgA.email, orgA.password);
    const before = await snapshot(orgB);
    const checked: string[] = [];
    for (const route of adminRoutes()) {
      if (!route.path.includes(':')) continue;
      const url = substitute(route.path, fx);
      for (const method of route.methods) {
        const csrf = csrfFrom((await agent.get('/customers/new')).text);
        const req =
          method === 'get'
            ? agent.get(url)
            : agent[method as 'post' | 'put' | 'patch' | 'delete'](url)
                .type('form')
                .send({ _csrf: csrf, ...PLAUSIBLE_BODY });
        const res = await req;
        expect(res.status, `${method.toUpperCase()} ${route.path}`).to.equal(404);
        checked.push(`${method.toUpperCase()} ${route.path}`);
      }
    }
    // Ids passed in the query string are checked the same way.
    for (const url of [`/proposals/new?leadId=${fx.lead}`, `/jobs/new?leadId=${fx.lead}`, `/invoices/new?leadId=${fx.lead}`]) {
      expect((await agent.get(url)).status, url).to.equal(404);
    }
    expect(checked.length).to.be.greaterThan(15);
    expect(await snapshot(orgB)).to.deep.equal(before);

    // The same ids that exist nowhere also answer 404, so B's ids look exactly like missing ones.
    const missing = await agent.get('/customers/00000000-0000-4000-8000-000000000000');
    expect(missing.status).to.equal(404);
  });
});
