// Admin pages for customers (leads): list + search, create, edit, pipeline stage.
// The customer's own page (everything about them) is in dashboard/.
import { Router } from 'express';
import { formFailure, orgPage } from '../http/page.js';
import { formValues, parseForm } from '../lib/forms.js';
import { routeId } from '../lib/ids.js';
import { addProperty, createLead, setLeadStage, updateLead, updateProperty } from './commands.js';
import { getLead, getProperty, leadName, listLeads } from './queries.js';
import { phoneCountryFor } from '../lib/phone.js';
import { languageOptions, leadFormSchema, leadListQuerySchema, leadStageSchema, propertyFormSchema, stageOptions } from './schema.js';
import { msg } from '../i18n/index.js';

// i18n-exempt: a view's path
const PROPERTY_FORM = 'admin/customers/property-form';

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
        title: 'dashboard:nav.customers',
        query,
        leads: page.leads,
        stageOptions: [{ value: '', label: 'dashboard:customer.allStages' }, ...stageOptions],
        pagination: prev || next ? { prev, next, page: null, pages: null } : null,
      },
    };
  }),
);

adminRouter.get(
  '/customers/new',
  orgPage(() => ({
    render: 'admin/customers/form',
    locals: { title: 'dashboard:customer.newTitle', action: '/customers', values: { stage: 'new' }, stageOptions, languageOptions },
  })),
);

adminRouter.post(
  '/customers',
  orgPage(async ({ req, db, org, actor }) => {
    try {
      const input = parseForm(leadFormSchema(phoneCountryFor(org.locale)), req.body);
      const lead = await createLead(db, input, actor);
      return { redirect: `/customers/${lead.id}`, flash: msg('dashboard:customer.added', { name: leadName(lead) }) };
    } catch (err) {
      return formFailure('admin/customers/form', err, {
        title: 'dashboard:customer.newTitle',
        action: '/customers',
        values: formValues(req.body),
        stageOptions,
        languageOptions,
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
      locals: {
        title: msg('dashboard:customer.editTitle', { name: leadName(lead) }),
        action: `/customers/${lead.id}`,
        lead,
        values: lead,
        stageOptions,
        languageOptions,
      },
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
      return { redirect: `/customers/${updated.id}`, flash: 'dashboard:customer.saved' };
    } catch (err) {
      return formFailure('admin/customers/form', err, {
        title: msg('dashboard:customer.editTitle', { name: leadName(lead) }),
        action: `/customers/${lead.id}`,
        lead,
        values: formValues(req.body),
        stageOptions,
        languageOptions,
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
    return { redirect: `/customers/${lead.id}`, flash: msg('dashboard:customer.stageSet', { stage }) };
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
      return { redirect: `/customers/${lead.id}#properties`, flash: 'dashboard:property.added' };
    } catch (err) {
      return formFailure(PROPERTY_FORM, err, {
        title: msg('dashboard:property.addTitle', { name: leadName(lead) }),
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
      render: PROPERTY_FORM,
      locals: { title: 'dashboard:property.editTitle', action: `/customers/${lead.id}/properties/${property.id}`, lead, values: property },
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
      return { redirect: `/customers/${lead.id}#properties`, flash: 'dashboard:property.saved' };
    } catch (err) {
      return formFailure(PROPERTY_FORM, err, {
        title: 'dashboard:property.editTitle',
        action: `/customers/${lead.id}/properties/${property.id}`,
        lead,
        values: formValues(req.body),
      });
    }
  }),
);
