// Admin pages for customers (leads): list + search, create, edit, pipeline stage.
// The customer's own page (everything about them) is in dashboard/.
import { Router } from 'express';
import { formFailure, orgPage } from '../http/page.js';
import { formValues, parseForm } from '../lib/forms.js';
import { routeId } from '../lib/ids.js';
import { humanize } from '../lib/pagination.js';
import { addProperty, createLead, setLeadStage, updateLead, updateProperty } from './commands.js';
import { getLead, getProperty, leadName, listLeads } from './queries.js';
import { phoneCountryFor } from '../lib/phone.js';
import { leadFormSchema, leadListQuerySchema, leadStageSchema, propertyFormSchema, stageOptions } from './schema.js';

export const adminRouter = Router();

adminRouter.get(
  '/customers',
  orgPage(async ({ req, db }) => {
    const query = leadListQuerySchema.parse(req.query);
    const page = await listLeads(db, query);
    const keep = { ...(query.q ? { q: query.q } : {}), ...(query.stage ? { stage: query.stage } : {}) };
    const url = (cursor: Record<string, string>) => `/customers?${new URLSearchParams({ ...keep, ...cursor }).toString()}`;
    const prev = page.prevCursor ? url({ before: page.prevCursor }) : null;
    const next = page.nextCursor ? url({ after: page.nextCursor }) : null;
    return {
      render: 'admin/customers/index',
      locals: {
        title: 'Customers',
        query,
        leads: page.leads,
        stageOptions: [{ value: '', label: 'All stages' }, ...stageOptions],
        pagination: prev || next ? { prev, next, page: null, pages: null } : null,
      },
    };
  }),
);

adminRouter.get(
  '/customers/new',
  orgPage(() => ({
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
      return formFailure('admin/customers/form', err, {
        title: 'New customer',
        action: '/customers',
        values: formValues(req.body),
        stageOptions,
      });
    }
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
        values: formValues(req.body),
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
    return { redirect: `/customers/${lead.id}`, flash: `Stage set to ${humanize(stage)}.` };
  }),
);

// ---- properties: the customer page lists them and adds one; each has its own edit page ----

adminRouter.post(
  '/customers/:id/properties',
  orgPage(async ({ req, db, actor }) => {
    const lead = await getLead(db, routeId(req.params));
    try {
      const input = parseForm(propertyFormSchema, req.body);
      await addProperty(db, lead.id, input, actor);
      return { redirect: `/customers/${lead.id}#properties`, flash: 'Property added.' };
    } catch (err) {
      return formFailure('admin/customers/property-form', err, {
        title: `Add a property for ${leadName(lead)}`,
        action: `/customers/${lead.id}/properties`,
        lead,
        values: formValues(req.body),
      });
    }
  }),
);

adminRouter.get(
  '/customers/:id/properties/:propertyId/edit',
  orgPage(async ({ req, db }) => {
    const lead = await getLead(db, routeId(req.params));
    const property = await getProperty(db, lead.id, routeId(req.params, 'propertyId'));
    return {
      render: 'admin/customers/property-form',
      locals: { title: 'Edit property', action: `/customers/${lead.id}/properties/${property.id}`, lead, values: property },
    };
  }),
);

adminRouter.post(
  '/customers/:id/properties/:propertyId',
  orgPage(async ({ req, db, actor }) => {
    const lead = await getLead(db, routeId(req.params));
    const property = await getProperty(db, lead.id, routeId(req.params, 'propertyId'));
    try {
      const input = parseForm(propertyFormSchema, req.body);
      await updateProperty(db, lead.id, property.id, input, actor);
      return { redirect: `/customers/${lead.id}#properties`, flash: 'Property saved.' };
    } catch (err) {
      return formFailure('admin/customers/property-form', err, {
        title: 'Edit property',
        action: `/customers/${lead.id}/properties/${property.id}`,
        lead,
        values: formValues(req.body),
      });
    }
  }),
);
