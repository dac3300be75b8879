// Every admin route, read from the routers themselves, and one org's worth of
// records to fill in their parameters: route-walking tests share these.
import crypto from 'node:crypto';
import { Router } from 'express';
import { ADMIN_ROUTERS, documentsPortalRouter } from '../../src/app.js';
import { authRouter } from '../../src/auth/routes.js';
import { mountPortalViews, portalRouter } from '../../src/portal/routes.js';
import { portalAssets } from '../../src/portal/assets.js';
import { localCheckoutRouter } from '../../src/dev/local-stripe.js';
import { checkoutReturnRouter } from '../../src/portal/return-routes.js';
import { publicRouter as orgsPublic } from '../../src/orgs/routes.js';
import { healthRouter } from '../../src/http/health.js';
import { webhookRouter as stripeConnectWebhooks } from '../../src/payments/stripe/webhooks.js';
import { webhookRouter as twilioWebhooks } from '../../src/messaging/webhooks.js';
import { webhookRouter as stripePlatformWebhooks } from '../../src/billing/webhooks.js';
import { withOrg } from '../../src/db/tenancy.js';
import type { Actor } from '../../src/db/audit.js';
import { parseForm } from '../../src/lib/forms.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { setJobStatus } from '../../src/jobs/commands.js';
import { createInvoiceFromJob, issueInvoice } from '../../src/invoices/commands.js';
import { recordPayment } from '../../src/payments/manual.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { createTestLead, createTestStaff, type TestOrg } from './factories.js';
import { HOSTILE_NOTE } from './hostile.js';

export interface Fixture {
  lead: string;
  proposal: string;
  job: string;
  invoice: string;
  payment: string;
  portalLink: string;
  delivery: string;
  invitation: string;
  member: string;
  property: string;
  workRequest: string;
  requestPhoto: string;
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
  'requests:id': 'workRequest',
  photoId: 'requestPhoto',
  // The dev checkout's session id: any value will do, the CSRF check runs before the session lookup.
  'checkout:id': 'invoice',
  leadId: 'lead',
  customerId: 'lead',
  proposalId: 'proposal',
  jobId: 'job',
  invoiceId: 'invoice',
  paymentId: 'payment',
  linkId: 'portalLink',
  portalLinkId: 'portalLink',
  deliveryId: 'delivery',
  propertyId: 'property',
};

/** The portal's pages as the app registers them (at /p, on itself), on a router of their own to walk. */
function portalViewRoutes(): Router {
  const router = Router();
  mountPortalViews(router);
  return router;
}

/** Every router src/app.ts mounts, with its mount path ('' for the root). */
export const MOUNTED_ROUTERS: { router: Router; mount: string }[] = [
  { router: healthRouter, mount: '' },
  { router: portalAssets, mount: '' },
  { router: stripePlatformWebhooks, mount: '/webhooks/stripe/platform' },
  { router: stripeConnectWebhooks, mount: '/webhooks/stripe' },
  { router: twilioWebhooks, mount: '/webhooks/twilio' },
  // The portal's pages, which the app registers on itself at /p.
  { router: portalViewRoutes(), mount: '' },
  { router: documentsPortalRouter, mount: '/p' },
  { router: portalRouter, mount: '/p' },
  { router: checkoutReturnRouter, mount: '/return' },
  { router: orgsPublic, mount: '' },
  { router: authRouter, mount: '' },
  ...ADMIN_ROUTERS.map((router) => ({ router, mount: '' })),
  // Development only (never mounted in production); its form carries the CSRF token like any other.
  { router: localCheckoutRouter, mount: '' },
];

export interface RouteInfo {
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

export function routeUrl(path: string, fx: Fixture): string {
  return path.replace(/([^/]*)\/:(\w+)/g, (_m, segment: string, name: string) => {
    const key = PARAM_FIXTURES[`${segment}:${name}`] ?? PARAM_FIXTURES[name];
    if (!key) {
      throw new Error(
        `admin routes: no fixture for ":${name}" in ${path}. Add "${segment}:${name}" or "${name}" to PARAM_FIXTURES in test/support/route-walk.ts`,
      );
    }
    return `${segment}/${fx[key]}`;
  });
}

/** A customer with a proposal, job, invoice, payment, portal link and message, a staff member and an invitation. */
export async function seedRouteFixtures(org: TestOrg): Promise<Fixture> {
  const actor: Actor = { type: 'user', userId: org.userId };
  const lead = await createTestLead(org.orgId);
  const staff = await createTestStaff(org.orgId);
  return withOrg(org.orgId, async (db) => {
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
    const { link } = await generatePortalLink(db, lead.id, actor);
    // Two properties: the pages show the property filter, headings and columns.
    const [property] = await db('properties')
      .insert([
        { org_id: org.orgId, lead_id: lead.id, address: '2 Walk Way', created_at: db.raw("now() - interval '1 minute'") },
        { org_id: org.orgId, lead_id: lead.id, label: 'Annex', address: '4 Walk Way' },
      ])
      .returning<{ id: string }[]>('id');
    const [delivery] = await db('message_deliveries')
      .insert({ org_id: org.orgId, lead_id: lead.id, portal_link_id: link.id, channel: 'sms', to_address: '+15555550100', body_text: 'hi' })
      .returning<{ id: string }[]>('id');
    const [invitation] = await db('invitations')
      .insert({
        org_id: org.orgId,
        email: `invitee-${org.orgId.slice(0, 8)}@example.test`,
        token_sha256: crypto.randomBytes(32).toString('hex'),
        invited_by: org.userId,
        expires_at: db.raw("now() + interval '7 days'"),
      })
      .returning<{ id: string }[]>('id');
    const [workRequest] = await db('work_requests')
      .insert({ org_id: org.orgId, lead_id: lead.id, portal_link_id: link.id, kind: 'work', description: `Fix the gate ${HOSTILE_NOTE}` })
      .returning<{ id: string }[]>('id');
    const [requestPhoto] = await db('work_request_photos')
      .insert({
        org_id: org.orgId,
        request_id: workRequest.id,
        position: 0,
        content_type: 'image/jpeg',
        width: 1,
        height: 1,
        sha256: crypto.randomBytes(32).toString('hex'),
        bytes: Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
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
      property: property.id,
      workRequest: workRequest.id,
      requestPhoto: requestPhoto.id,
    };
  });
}
