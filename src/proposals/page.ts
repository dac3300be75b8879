// The proposal's admin page: what it shows, built here so that a form posted from
// it to another feature (a deposit received another way, in payments) can show it
// again with that form's errors.
import type { OrgRow } from '../db/rows.js';
import { MANUAL_METHODS } from '../db/rows.js';
import { followupStatus } from '../db/sql/followups.js';
import { DEPOSIT_TAKING_STATUSES, invoicesBilling } from '../db/sql/invoices.js';
import type { Db } from '../db/tenancy.js';
import { msg } from '../i18n/index.js';
import { todayIn } from '../lib/dates.js';
import { taxRateText } from '../lib/line-items.js';
import { choiceNoteMessage, hasChoices } from '../lib/line-options.js';
import { moneyInputValue } from '../lib/money.js';
import type { Plan } from '../plans.js';
import { getLead, leadName } from '../leads/queries.js';
import { proposalLocked } from './commands.js';
import { depositAsked, depositState } from './deposit.js';
import { getProposal, getProposalItems } from './queries.js';
import { getProposalSignature, listProposalVersions } from './revisions.js';

/** How money received outside Porchlight came in, as the payment forms offer it. */
export const manualMethodOptions = MANUAL_METHODS.map((m) => ({ value: m, label: `common:method.${m}` }));

/** A valid-until date before today, in the org's time zone (the portal shows such a proposal as expired). */
export function isPastDate(validUntil: string | Date | null | undefined, timeZone: string): boolean {
  if (!validUntil) return false;
  const day = typeof validUntil === 'string' ? validUntil.slice(0, 10) : validUntil.toISOString().slice(0, 10);
  return day < todayIn(timeZone);
}

/** Everything the proposal page shows. `justSent`: it was sent a moment ago (the page says so). */
export async function proposalPage(db: Db, org: OrgRow, plan: Plan, proposalId: string, options: { justSent?: boolean } = {}) {
  const proposal = await getProposal(db, proposalId);
  const items = await getProposalItems(db, proposal.id);
  const lead = await getLead(db, proposal.lead_id);
  const job = await db('jobs').where({ proposal_id: proposal.id }).first<{ id: string } | undefined>('id');
  const billedBy = proposal.status === 'approved' ? await invoicesBilling(db, { proposalId: proposal.id, jobId: job?.id ?? null }) : [];
  const versions = await listProposalVersions(db, proposal.id);
  const signature = await getProposalSignature(db, proposal.id);
  const deposit = await depositState(db, proposal);
  return {
    // What the customer asked to change (the current version), and the versions it replaced.
    changeRequest: proposal.status === 'changes_requested' ? versions.find((v) => v.version === proposal.version) : null,
    earlierVersions: versions.filter((v) => v.superseded_at),
    nextVersion: proposal.version + 1,
    signature: signature && { ...signature, image_png: null },
    title: msg('dashboard:proposal.heading', { number: proposal.number }),
    proposal,
    items: items.map((item) => ({ ...item, choiceNote: choiceNoteMessage(item, proposal.status === 'approved') })),
    hasChoices: hasChoices(items),
    lead,
    leadName: leadName(lead),
    job,
    billedBy,
    cardPayments: Boolean(org.stripe_account_id && org.stripe_charges_enabled),
    taxRate: taxRateText(proposal.tax_rate_bps),
    editable: proposalLocked(proposal) === null,
    onlineApproval: plan.onlineApproval,
    planName: plan.name,
    hasContact: Boolean(org.phone || org.email || org.whatsapp_number),
    pastValidUntil: proposal.status === 'pending' && isPastDate(proposal.valid_until, org.time_zone),
    justSent: options.justSent === true,
    followups: await followupStatus(db, proposal.id, lead),
    deposit,
    // A deposit paid by check, cash or transfer, recorded here while no invoice bills the work or one that
    // can still take money does (payments/manual.ts puts it there).
    depositForm:
      deposit &&
      deposit.outstanding_cents > 0 &&
      (billedBy.length === 0 || billedBy.some((i) => DEPOSIT_TAKING_STATUSES.includes(i.status)))
        ? {
            methodOptions: manualMethodOptions,
            values: { amount: moneyInputValue(deposit.outstanding_cents, org.currency), method: 'check', paid_on: todayIn(org.time_zone) },
          }
        : null,
    // Before approval: the deposit the customer will be asked for (fixed from the total they approve).
    depositAsked: proposal.status === 'approved' ? null : depositAsked(proposal),
  };
}
