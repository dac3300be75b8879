// A sent proposal with a required line, a "Good / Better / Best" group and two
// optional lines, shared by the options route and browser tests.
import { withOrg } from '../../src/db/tenancy.js';
import type { Actor } from '../../src/db/audit.js';
import type { ProposalItemRow, ProposalRow } from '../../src/db/rows.js';
import { parseForm } from '../../src/lib/forms.js';
import { createProposal, markProposalSent } from '../../src/proposals/commands.js';
import { getProposalItems } from '../../src/proposals/queries.js';
import { proposalFormSchema } from '../../src/proposals/schema.js';

/** The editor's rows: 8.25 % tax; preselected Good + the ticked downspouts = 1,250.00 + 103.13 tax = 1,353.13. */
export const OPTION_ROWS: Record<string, string>[] = [
  { service: 'Gutter cleaning', quantity: '1', unit_price: '200', choice: '', group: '' },
  {
    service: 'Aluminium gutters',
    description: 'Good',
    quantity: '1',
    unit_price: '1000',
    choice: 'alternative_default',
    group: 'Gutter material',
  },
  { service: 'Steel gutters', description: 'Better', quantity: '1', unit_price: '1500', choice: 'alternative', group: 'Gutter material' },
  { service: 'Copper gutters', description: 'Best', quantity: '1', unit_price: '3000', choice: 'alternative', group: 'Gutter material' },
  { service: 'Gutter guards', quantity: '1', unit_price: '400', choice: 'optional', group: '' },
  { service: 'Downspout extensions', quantity: '2', unit_price: '25', choice: 'optional_selected', group: '' },
];

export const DEFAULT_TOTAL_CENTS = 135313;

export type ItemsByService = Record<string, ProposalItemRow>;

export async function createOptionsProposal(
  orgId: string,
  userId: string,
  leadId: string,
): Promise<{ proposal: ProposalRow; items: ItemsByService }> {
  const actor: Actor = { type: 'user', userId, label: 'owner' };
  const input = parseForm(proposalFormSchema('USD'), { lead_id: leadId, title: 'New gutters', tax_rate: '8.25', items: OPTION_ROWS });
  return withOrg(orgId, async (db) => {
    const created = await createProposal(db, input, actor);
    const { proposal } = await markProposalSent(db, created.id, actor);
    const items = Object.fromEntries((await getProposalItems(db, proposal.id)).map((i) => [i.service, i]));
    return { proposal, items };
  });
}
