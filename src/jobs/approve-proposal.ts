// approveProposal: crosses features in one transaction — the proposal becomes
// approved (proposals), its job is made once (jobs), the customer is won (leads),
// and the approval is audited with the job it made.
import { recordAudit, type Actor } from '../db/audit.js';
import type { ProposalRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';
import { advanceLeadStage } from '../leads/commands.js';
import { markProposalApproved, type ProposalApproval } from '../proposals/commands.js';
import { recordProposalSignature } from '../proposals/revisions.js';
import { fixDepositOnApproval } from '../proposals/deposit.js';
import { createJobForProposal } from './commands.js';

/**
 * Approves a pending proposal and creates its job, once. A double submit waits
 * for the first on the proposal's row lock, then finds it approved and returns
 * the same job (jobs are also unique per proposal in the schema).
 */
export async function approveProposal(
  db: Db,
  proposalId: string,
  approval: ProposalApproval,
  actor: Actor,
): Promise<{ proposal: ProposalRow; jobId: string; alreadyDecided: boolean }> {
  const marked = await markProposalApproved(db, proposalId, approval, actor);
  const { alreadyDecided, approverName, chosenItemIds } = marked;
  // The deposit owed comes from the row just approved (its total as approved, after the customer's choice), never from the client.
  const proposal = alreadyDecided ? marked.proposal : await fixDepositOnApproval(db, marked.proposal);
  const job = await createJobForProposal(db, proposal, actor);
  if (alreadyDecided) return { proposal, jobId: job.id, alreadyDecided };
  if (approval.signature) await recordProposalSignature(db, proposal, approval.signature);
  await advanceLeadStage(db, proposal.lead_id, 'won', actor);
  await recordAudit(db, {
    actor,
    // i18n-exempt: an audit action id
    action: 'proposal.approved',
    subjectType: 'proposal',
    subjectId: proposal.id,
    data: {
      number: proposal.number,
      source: approval.source,
      approver_name: approverName,
      job_id: job.id,
      // Optional lines and alternatives: exactly which lines were chosen, and their total.
      ...(chosenItemIds ? { chosen_item_ids: chosenItemIds, total_cents: proposal.total_cents } : {}),
    },
  });
  return { proposal, jobId: job.id, alreadyDecided: false };
}
