// Admin pages for proposals. Approving (which makes the job) is in jobs/routes.ts,
// invoicing an approved proposal in invoices/routes.ts.
import { msg } from '../i18n/index.js';
import { Router } from 'express';
import { formFailure, orgPage, type PageResult } from '../http/page.js';
import type { Db } from '../db/tenancy.js';
import { formValues, parseForm } from '../lib/forms.js';
import { idOrNotFound, routeId } from '../lib/ids.js';
import { lineFormValuesFrom, taxRateText } from '../lib/line-items.js';
import { CHOICE_KIND_LABELS, CHOICE_KINDS } from '../lib/line-options.js';
import { pageOf, pageWindow, statusFilterOptions } from '../lib/pagination.js';
import { documentFormLocals, getLead, leadName } from '../leads/queries.js';
import { createProposal, markProposalSent, proposalLocked, rejectProposal, updateProposal } from './commands.js';
import { depositFormValues } from './deposit.js';
import { getProposal, getProposalItems, listProposals, type ProposalItemRow, type ProposalRow } from './queries.js';
import { isPastDate, proposalPage } from './page.js';
import { PROPOSAL_STATUSES, proposalFormSchema, proposalListQuerySchema, rejectionFormSchema } from './schema.js';

export const adminRouter = Router();

const choiceKinds = CHOICE_KINDS.map((value) => ({ value, label: CHOICE_KIND_LABELS[value] }));
const depositOptions = [
  { value: 'none', label: 'dashboard:proposal.deposit.none' },
  { value: 'percent', label: 'dashboard:proposal.deposit.percent' },
  { value: 'amount', label: 'dashboard:proposal.deposit.amount' },
];

async function formLocals(db: Db, title: string, action: string, values: Record<string, unknown>, errors?: Record<string, string>) {
  return { ...(await documentFormLocals(db, { title, action, values, errors, withEmail: true })), choiceKinds, depositOptions };
}

function valuesFrom(proposal: ProposalRow, items: ProposalItemRow[], currency: string) {
  return {
    lead_id: proposal.lead_id,
    property_id: proposal.property_id ?? '',
    title: proposal.title,
    tax_rate: taxRateText(proposal.tax_rate_bps),
    valid_until: proposal.valid_until ?? '',
    customer_message: proposal.customer_message,
    internal_notes: proposal.internal_notes,
    items: lineFormValuesFrom(items, currency),
    ...depositFormValues(proposal, currency),
  };
}

/** A sent proposal's customer, by name: its form shows them instead of a choice (commands.ts refuses a change). */
async function customerFixed(db: Db, proposal: ProposalRow): Promise<string | null> {
  return proposal.status === 'draft' ? null : leadName(await getLead(db, proposal.lead_id));
}

const formErrors = (err: unknown) => (err as { fields?: Record<string, string> }).fields;

adminRouter.get(
  '/proposals',
  orgPage(async ({ req, db }) => {
    const query = proposalListQuerySchema.parse(req.query);
    const rows = await listProposals(db, { status: query.status, ...pageWindow(query.page) });
    const page = pageOf(rows, query.page, '/proposals', query.status ? { status: query.status } : {});
    return {
      render: 'admin/proposals/index',
      locals: {
        title: 'dashboard:nav.proposals',
        proposals: page.rows,
        query,
        statusOptions: statusFilterOptions(PROPOSAL_STATUSES),
        pagination: page.pagination,
      },
    };
  }),
);

adminRouter.get(
  '/proposals/new',
  orgPage(async ({ req, db }) => {
    const leadId = req.query.leadId ? (await getLead(db, idOrNotFound(req.query.leadId))).id : '';
    return {
      render: 'admin/proposals/form',
      locals: await formLocals(db, 'dashboard:proposal.newTitle', '/proposals', { lead_id: leadId, tax_rate: '0' }),
    };
  }),
);

/** After a save: back to the proposal, warning when its valid-until date has already passed. */
function savedResult(
  proposal: { id: string; number: number },
  validUntil: string | null | undefined,
  timeZone: string,
  what: 'draft' | 'saved',
): PageResult {
  const redirect = `/proposals/${proposal.id}`;
  if (isPastDate(validUntil, timeZone)) {
    return {
      redirect,
      flash: msg(what === 'draft' ? 'dashboard:proposal.savedDraftExpired' : 'dashboard:proposal.savedExpired', {
        number: proposal.number,
      }),
      flashType: 'info',
    };
  }
  return {
    redirect,
    flash: msg(what === 'draft' ? 'dashboard:proposal.savedDraft' : 'dashboard:proposal.saved', { number: proposal.number }),
  };
}

adminRouter.post(
  '/proposals',
  orgPage(async ({ req, db, org, actor }) => {
    try {
      const input = parseForm(proposalFormSchema(org.currency), req.body);
      const proposal = await createProposal(db, input, actor, org.currency);
      return savedResult(proposal, input.valid_until, org.time_zone, 'draft');
    } catch (err) {
      return formFailure(
        'admin/proposals/form',
        err,
        await formLocals(db, 'dashboard:proposal.newTitle', '/proposals', formValues(req.body), formErrors(err)),
      );
    }
  }),
);

adminRouter.get(
  '/proposals/:id',
  orgPage(async ({ req, db, org, plan }) => ({
    render: 'admin/proposals/show',
    locals: await proposalPage(db, org, plan, routeId(req.params), { justSent: req.query.sent === '1' }),
  })),
);

adminRouter.get(
  '/proposals/:id/edit',
  orgPage(async ({ req, db, org }) => {
    const proposal = await getProposal(db, routeId(req.params));
    // No form that can only be refused: an approved or closed proposal's page says why.
    const locked = proposalLocked(proposal);
    if (locked) return { redirect: `/proposals/${proposal.id}`, flash: locked, flashType: 'error' };
    const items = await getProposalItems(db, proposal.id);
    const values = valuesFrom(proposal, items, org.currency);
    return {
      render: 'admin/proposals/form',
      locals: {
        ...(await formLocals(db, msg('dashboard:proposal.editTitle', { number: proposal.number }), `/proposals/${proposal.id}`, values)),
        proposal,
        customerFixed: await customerFixed(db, proposal),
      },
    };
  }),
);

adminRouter.post(
  '/proposals/:id',
  orgPage(async ({ req, db, org, actor }) => {
    const proposal = await getProposal(db, routeId(req.params));
    try {
      const input = parseForm(proposalFormSchema(org.currency), req.body);
      await updateProposal(db, proposal.id, input, actor, org.currency);
      return savedResult(proposal, input.valid_until, org.time_zone, 'saved');
    } catch (err) {
      const locals = await formLocals(
        db,
        msg('dashboard:proposal.editTitle', { number: proposal.number }),
        `/proposals/${proposal.id}`,
        formValues(req.body),
        formErrors(err),
      );
      return formFailure('admin/proposals/form', err, { ...locals, proposal, customerFixed: await customerFixed(db, proposal) });
    }
  }),
);

adminRouter.post(
  '/proposals/:id/send',
  orgPage(async ({ req, db, actor }) => {
    const { proposal, alreadySent } = await markProposalSent(db, routeId(req.params), actor);
    return {
      redirect: `/proposals/${proposal.id}?sent=1`,
      flash: alreadySent
        ? msg('dashboard:proposal.alreadySent', { number: proposal.number })
        : msg('dashboard:proposal.markedSent', { number: proposal.number }),
    };
  }),
);

adminRouter.post(
  '/proposals/:id/reject',
  orgPage(async ({ req, db, actor }) => {
    const proposal = await getProposal(db, routeId(req.params));
    const { reason } = parseForm(rejectionFormSchema, req.body);
    const result = await rejectProposal(db, proposal.id, { reason }, actor);
    return {
      redirect: `/proposals/${proposal.id}`,
      flash: result.alreadyDecided
        ? 'dashboard:proposal.alreadyRejected'
        : msg('dashboard:proposal.markedRejected', { number: proposal.number }),
    };
  }),
);
