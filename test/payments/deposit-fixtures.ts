// A proposal asking a deposit, approved by staff, with no invoice yet: where the
// deposit specs (paid by hand, marked as not received) start.
import type { Actor } from '../../src/db/audit.js';
import { getDb } from '../../src/db/knex.js';
import type { ProposalRow } from '../../src/db/rows.js';
import { withOrg } from '../../src/db/tenancy.js';
import { approveProposal } from '../../src/jobs/approve-proposal.js';
import { parseForm } from '../../src/lib/forms.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';
import { createTestLead, createTestOrg, type TestOrg } from '../support/factories.js';

interface Setup {
  org: TestOrg;
  actor: Actor;
  proposal: ProposalRow;
}

/** A proposal of $1,000.00 asking `deposit` (25 % unless told), approved by staff: its job exists, no invoice yet. */
export async function approvedWithDeposit(
  deposit: Record<string, string> = { deposit_kind: 'percent', deposit_percent: '25' },
  business: { locale: string; currency: string } = { locale: 'en-US', currency: 'USD' },
): Promise<Setup> {
  const org = await createTestOrg({ plan: 'starter' });
  await getDb()('organizations').where({ id: org.orgId }).update(business);
  const lead = await createTestLead(org.orgId, { first_name: 'Dana', last_name: 'Reyes' });
  const actor: Actor = { type: 'user', userId: org.userId, label: org.email };
  const proposal = await withOrg(org.orgId, async (db) => {
    const input = parseForm(proposalFormSchema(business.currency), {
      lead_id: lead.id,
      title: 'New deck',
      tax_rate: '0',
      items: [{ service: 'Deck', quantity: '1', unit_price: '1000' }],
      ...deposit,
    });
    const created = await createProposal(db, input, actor, business.currency);
    await markProposalSent(db, created.id, actor);
    return (await approveProposal(db, created.id, { source: 'staff', approverName: 'Dana Reyes' }, actor)).proposal;
  });
  return { org, actor, proposal };
}
