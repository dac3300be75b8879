// Admin pages for customers (leads): list + search, create, edit, and the customer page.
import { Router, type Request } from 'express';
import { formFailure, orgPage } from '../http/page.js';
import { parseForm } from '../http/validate.js';
import { loadPortalPanel } from '../portal/panel.js';
import { loadMessagingPanel } from '../messaging/panel.js';
import { listProposals } from '../proposals/service.js';
import { listJobs } from '../jobs/service.js';
import { listInvoices, openBalance } from '../invoices/service.js';
import { listPayments } from '../payments/service.js';
import { routeId } from './common.js';
import { LEAD_STAGES, leadFormSchema, leadListQuerySchema, leadStageSchema, phoneCountryFor } from './schema.js';
import { createLead, getLead, leadName, listLeads, setLeadStage, updateLead } from './service.js';

export const adminRouter = Router();

export const stageOptions = LEAD_STAGES.map((value) => ({ value, label: value.replace('_', ' ').replace(/^./, (c) => c.toUpperCase()) }));

function formValues(req: Request): Record<string, unknown> {
  const { _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
  return values;
}

adminRouter.get(
  '/customers',
  orgPage(async ({ req, db }) => {
    const query = leadListQuerySchema.parse(req.query);
    const page = await listLeads(db, query);
    const keep = { ...(query.q ? { q: query.q } : {}), ...(query.stage ? { stage: query.stage } : {}) };
    const url = (cursor: Record<string, string>) => `/customers?${new URLSearchParams({ ...keep, ...cursor }).toString()}`;
    return {
      render: 'admin/customers/index',
      locals: {
        title: 'Customers',
        query,
        leads: page.leads,
        stageOptions: [{ value: '', label: 'All stages' }, ...stageOptions],
        prevUrl: page.prevCursor ? url({ before: page.prevCursor }) : null,
        nextUrl: page.nextCursor ? url({ after: page.nextCursor }) : null,
      },
    };
  }),
);

adminRouter.get(
  '/customers/new',
  orgPage(async () => ({
    render: 'admin/customers/form',
    locals: { title: 'New customer', action: '/customers', values: { stage: 'new' }, stageOptions },
  })),
);

adminRouter.post(
  '/customers',
  orgPage(async ({ req, db, org, actor }) => {
    try {
      const input = parseForm(leadFormSchema(phoneCountryFor(org.locale)), req.body);
      const lead = await createLead(db, input, actor);
      return { redirect: `/customers/${lead.id}`, flash: `${leadName(lead)} was added.` };
    } catch (err) {
      return formFailure('admin/customers/form', err, { title: 'New customer', action: '/customers', values: formValues(req), stageOptions });
    }
  }),
);

adminRouter.get(
  '/customers/:id',
  orgPage(async ({ req, db, org, plan }) => {
    const lead = await getLead(db, routeId(req.params));
    const ctx = { lead: { id: lead.id, first_name: lead.first_name, email: lead.email, phone: lead.phone }, org, plan };
    // One transaction is one connection: queries run one after another.
    const proposals = await listProposals(db, { leadId: lead.id, limit: 100 });
    const jobs = await listJobs(db, { leadId: lead.id, limit: 100 });
    const invoices = await listInvoices(db, { leadId: lead.id, limit: 100 });
    const payments = await listPayments(db, { leadId: lead.id, limit: 100 });
    const balance = await openBalance(db, lead.id);
    const portalPanel = await loadPortalPanel(db, ctx);
    const messagingPanel = await loadMessagingPanel(db, ctx);
    return {
      render: 'admin/customers/show',
      locals: { title: leadName(lead), lead, name: leadName(lead), proposals, jobs, invoices, payments, balance, portalPanel, messagingPanel, stageOptions },
    };
  }),
);

adminRouter.get(
  '/customers/:id/edit',
  orgPage(async ({ req, db }) => {
    const lead = await getLead(db, routeId(req.params));
    return {
      render: 'admin/customers/form',
      locals: { title: `Edit ${leadName(lead)}`, action: `/customers/${lead.id}`, lead, values: lead, stageOptions },
    };
  }),
);

adminRouter.post(
  '/customers/:id',
  orgPage(async ({ req, db, org, actor }) => {
    const lead = await getLead(db, routeId(req.params));
    try {
      const input = parseForm(leadFormSchema(phoneCountryFor(org.locale)), req.body);
      const updated = await updateLead(db, lead.id, input, actor);
      return { redirect: `/customers/${updated.id}`, flash: 'Customer saved.' };
    } catch (err) {
      return formFailure('admin/customers/form', err, {
        title: `Edit ${leadName(lead)}`,
        action: `/customers/${lead.id}`,
        lead,
        values: formValues(req),
        stageOptions,
      });
    }
  }),
);

adminRouter.post(
  '/customers/:id/stage',
  orgPage(async ({ req, db, actor }) => {
    const lead = await getLead(db, routeId(req.params));
    const { stage } = parseForm(leadStageSchema, req.body);
    await setLeadStage(db, lead.id, stage, actor);
    return { redirect: `/customers/${lead.id}`, flash: `Stage set to ${stage.replace('_', ' ')}.` };
  }),
);
