// Admin pages for proposals.
import { Router, type Request } from 'express';
import { pageOf, pageWindow, statusFilterOptions } from '../http/listing.js';
import { formFailure, orgPage } from '../http/page.js';
import { parseForm } from '../http/validate.js';
import { idOrNotFound, routeId } from '../leads/common.js';
import { getLead, leadChoices, leadName } from '../leads/service.js';
import { createInvoiceFromProposal } from '../invoices/service.js';
import { moneyInputValue } from '../format.js';
import type { Db } from '../db/tenancy.js';
import { lineItemFormRows, taxRateText } from './line-items.js';
import { approvalFormSchema, PROPOSAL_STATUSES, proposalFormSchema, proposalListQuerySchema, rejectionFormSchema } from './schema.js';
import {
  approveProposal,
  createProposal,
  getProposal,
  getProposalItems,
  listProposals,
  markProposalSent,
  rejectProposal,
  updateProposal,
  type ProposalRow,
} from './service.js';

export const adminRouter = Router();

function bodyValues(req: Request): Record<string, unknown> {
  const { _csrf, ...values } = (req.body ?? {}) as Record<string, unknown>;
  return values;
}

async function formLocals(db: Db, title: string, action: string, values: Record<string, unknown>, errors?: Record<string, string>) {
  const leadId = typeof values.lead_id === 'string' && /^[0-9a-f-]{36}$/.test(values.lead_id) ? values.lead_id : null;
  const leads = await leadChoices(db, leadId);
  return {
    title,
    action,
    values,
    leadOptions: [{ value: '', label: 'Choose a customer…' }, ...leads.map((l) => ({ value: l.id, label: `${leadName(l)}${l.email ? ` · ${l.email}` : ''}` }))],
    rows: lineItemFormRows(values.items, errors),
  };
}

function valuesFrom(proposal: ProposalRow, items: { service: string; description: string; quantity: string; unit_price_cents: number }[], currency: string) {
  return {
    lead_id: proposal.lead_id,
    title: proposal.title,
    tax_rate: taxRateText(proposal.tax_rate_bps),
    valid_until: proposal.valid_until ?? '',
    customer_message: proposal.customer_message,
    internal_notes: proposal.internal_notes,
    items: items.map((i) => ({ service: i.service, description: i.description, quantity: i.quantity, unit_price: moneyInputValue(Number(i.unit_price_cents), currency) })),
  };
}

adminRouter.get(
  '/proposals',
  orgPage(async ({ req, db }) => {
    const query = proposalListQuerySchema.parse(req.query);
    const rows = await listProposals(db, { status: query.status, ...pageWindow(query.page) });
    const keep: Record<string, string> = query.status ? { status: query.status } : {};
    const page = pageOf(rows, query.page, '/proposals', keep);
    return {
      render: 'admin/proposals/index',
      locals: {
        title: 'Proposals',
        proposals: page.rows,
        query,
        statusOptions: statusFilterOptions(PROPOSAL_STATUSES),
        prevUrl: page.prevUrl,
        nextUrl: page.nextUrl,
      },
    };
  }),
);

adminRouter.get(
  '/proposals/new',
  orgPage(async ({ req, db }) => {
    const leadId = req.query.leadId ? (await getLead(db, idOrNotFound(req.query.leadId))).id : '';
    return { render: 'admin/proposals/form', locals: await formLocals(db, 'New proposal', '/proposals', { lead_id: leadId, tax_rate: '0' }) };
  }),
);

adminRouter.post(
  '/proposals',
  orgPage(async ({ req, db, org, actor }) => {
    try {
      const input = parseForm(proposalFormSchema(org.currency), req.body);
      const proposal = await createProposal(db, input, actor);
      return { redirect: `/proposals/${proposal.id}`, flash: `Proposal #${proposal.number} saved as a draft.` };
    } catch (err) {
      const values = bodyValues(req);
      const errors = (err as { fields?: Record<string, string> }).fields;
      return formFailure('admin/proposals/form', err, await formLocals(db, 'New proposal', '/proposals', values, errors));
    }
  }),
);

adminRouter.get(
  '/proposals/:id',
  orgPage(async ({ req, db }) => {
    const proposal = await getProposal(db, routeId(req.params));
    const items = await getProposalItems(db, proposal.id);
    const lead = await getLead(db, proposal.lead_id);
    const job = await db('jobs').where({ proposal_id: proposal.id }).first<{ id: string } | undefined>('id');
    return {
      render: 'admin/proposals/show',
      locals: {
        title: `Proposal #${proposal.number}`,
        proposal,
        items,
        lead,
        leadName: leadName(lead),
        job,
        taxRate: taxRateText(proposal.tax_rate_bps),
        editable: proposal.status === 'draft' || proposal.status === 'pending',
        justSent: req.query.sent === '1',
      },
    };
  }),
);

adminRouter.get(
  '/proposals/:id/edit',
  orgPage(async ({ req, db, org }) => {
    const proposal = await getProposal(db, routeId(req.params));
    const items = await getProposalItems(db, proposal.id);
    return {
      render: 'admin/proposals/form',
      locals: { ...(await formLocals(db, `Edit proposal #${proposal.number}`, `/proposals/${proposal.id}`, valuesFrom(proposal, items, org.currency))), proposal },
    };
  }),
);

adminRouter.post(
  '/proposals/:id',
  orgPage(async ({ req, db, org, actor }) => {
    const proposal = await getProposal(db, routeId(req.params));
    try {
      const input = parseForm(proposalFormSchema(org.currency), req.body);
      await updateProposal(db, proposal.id, input, actor);
      return { redirect: `/proposals/${proposal.id}`, flash: `Proposal #${proposal.number} saved.` };
    } catch (err) {
      const errors = (err as { fields?: Record<string, string> }).fields;
      return formFailure('admin/proposals/form', err, {
        ...(await formLocals(db, `Edit proposal #${proposal.number}`, `/proposals/${proposal.id}`, bodyValues(req), errors)),
        proposal,
      });
    }
  }),
);

adminRouter.post(
  '/proposals/:id/send',
  orgPage(async ({ req, db, actor }) => {
    const { proposal, alreadySent } = await markProposalSent(db, routeId(req.params), actor);
    return {
      redirect: `/proposals/${proposal.id}?sent=1`,
      flash: alreadySent ? `Proposal #${proposal.number} was already marked as sent.` : `Proposal #${proposal.number} is marked as sent. Now send the customer their portal link.`,
    };
  }),
);

adminRouter.post(
  '/proposals/:id/approve',
  orgPage(async ({ req, db, actor }) => {
    const id = routeId(req.params);
    const proposal = await getProposal(db, id);
    const { approver_name } = parseForm(approvalFormSchema, req.body);
    const result = await approveProposal(db, proposal.id, { source: 'staff', approverName: approver_name, ip: null, userAgent: null }, actor);
    return {
      redirect: `/jobs/${result.jobId}`,
      flash: result.alreadyDecided
        ? `Proposal #${proposal.number} was already approved; this is its job.`
        : `Approval recorded for proposal #${proposal.number}. A job was created — schedule it below.`,
    };
  }),
);

adminRouter.post(
  '/proposals/:id/reject',
  orgPage(async ({ req, db, actor }) => {
    const proposal = await getProposal(db, routeId(req.params));
    const { reason } = parseForm(rejectionFormSchema, req.body);
    const result = await rejectProposal(db, proposal.id, { reason }, actor);
    return { redirect: `/proposals/${proposal.id}`, flash: result.alreadyDecided ? 'It was already rejected.' : `Proposal #${proposal.number} marked as rejected.` };
  }),
);

adminRouter.post(
  '/proposals/:id/invoice',
  orgPage(async ({ req, db, org, actor }) => {
    const invoice = await createInvoiceFromProposal(db, routeId(req.params), org, actor);
    return { redirect: `/invoices/${invoice.id}`, flash: `Draft invoice #${invoice.number} created from the proposal. Check it, then issue it.` };
  }),
);
