// Customer records for portal tests and the benchmark, written straight into the
// tables (as the app role, inside withOrg) so these tests don't depend on other
// features' forms. Every row carries internal notes the portal must never show.
import { withOrg, type Db } from '../../src/db/tenancy.js';

export const SECRET_NOTE = 'INTERNAL-ONLY-do-not-show-7f3a';

export interface SeedCounts {
  proposals?: number;
  /** How many of the proposals are pending (the first ones); the rest alternate approved/rejected. */
  pendingProposals?: number;
  draftProposals?: number;
  invoices?: number;
  /** How many of the invoices are open (the first ones); the rest are paid. */
  openInvoices?: number;
  draftInvoices?: number;
  payments?: number;
  jobs?: number;
  /** How many of the jobs are upcoming (scheduled); the rest completed. */
  upcomingJobs?: number;
}

export interface SeededRecords {
  proposalIds: string[];
  pendingProposalIds: string[];
  draftProposalIds: string[];
  invoiceIds: string[];
  draftInvoiceIds: string[];
  jobIds: string[];
}

async function nextNumber(db: Db, table: 'proposals' | 'invoices'): Promise<number> {
  const [{ max }] = await db(table).max<{ max: number | null }[]>('number as max');
  return (max ?? 0) + 1;
}

export async function seedCustomerRecords(orgId: string, leadId: string, counts: SeedCounts): Promise<SeededRecords> {
  return withOrg(orgId, async (db) => {
    await db('leads').where({ id: leadId }).update({ internal_notes: SECRET_NOTE });
    const out: SeededRecords = {
      proposalIds: [],
      pendingProposalIds: [],
      draftProposalIds: [],
      invoiceIds: [],
      draftInvoiceIds: [],
      jobIds: [],
    };
    const day = 86_400_000;
    const now = Date.now();

    const addProposal = async (i: number, status: 'draft' | 'pending' | 'approved' | 'rejected') => {
      const number = await nextNumber(db, 'proposals');
      const items = [
        { service: `Gutter cleaning ${number}`, description: 'Front and back, downspouts flushed', quantity: 2, unit: 7500 },
        { service: 'Leaf guard', description: '', quantity: 1.5, unit: 12000 },
      ];
      const subtotal = items.reduce((s, it) => s + Math.round(it.quantity * it.unit), 0);
      const tax = Math.round(subtotal * 0.05);
      const [p] = await db('proposals')
        .insert({
          org_id: orgId,
          lead_id: leadId,
          number,
          title: `Gutter work option ${number}`,
          status,
          tax_rate_bps: 500,
          subtotal_cents: subtotal,
          tax_cents: tax,
          total_cents: subtotal + tax,
          customer_message: `Thanks for having us out. Proposal ${number}.`,
          internal_notes: SECRET_NOTE,
          sent_at: status === 'draft' ? null : new Date(now - i * day),
          created_at: new Date(now - i * day),
          approved_at: status === 'approved' ? new Date(now - i * day + 3600_000) : null,
          approval_source: status === 'approved' ? 'staff' : null,
          approved_by_name: status === 'approved' ? 'Sarah Homeowner' : null,
          rejected_at: status === 'rejected' ? new Date(now - i * day + 3600_000) : null,
        })
        .returning<{ id: string }[]>('id');
      await db('proposal_items').insert(
        items.map((it, position) => ({
          org_id: orgId,
          proposal_id: p.id,
          position,
          service: it.service,
          description: it.description,
          quantity: it.quantity,
          unit_price_cents: it.unit,
          amount_cents: Math.round(it.quantity * it.unit),
        })),
      );
      return p.id;
    };

    const pending = counts.pendingProposals ?? 0;
    for (let i = 0; i < (counts.proposals ?? 0); i++) {
      const status = i < pending ? 'pending' : i % 2 === 0 ? 'approved' : 'rejected';
      const id = await addProposal(i, status);
      out.proposalIds.push(id);
      if (status === 'pending') out.pendingProposalIds.push(id);
    }
    for (let i = 0; i < (counts.draftProposals ?? 0); i++) out.draftProposalIds.push(await addProposal(i, 'draft'));

    const addInvoice = async (i: number, status: 'draft' | 'open' | 'paid') => {
      const number = await nextNumber(db, 'invoices');
      const subtotal = 20000 + i * 100;
      const issue = new Date(now - (i + 1) * 7 * day).toISOString().slice(0, 10);
      const due = new Date(now - (i + 1) * 7 * day + 14 * day).toISOString().slice(0, 10);
      const [inv] = await db('invoices')
        .insert({
          org_id: orgId,
          lead_id: leadId,
          number,
          status,
          currency: 'USD',
          issue_date: issue,
          due_date: due,
          subtotal_cents: subtotal,
          tax_cents: 0,
          total_cents: subtotal,
          amount_paid_cents: status === 'paid' ? subtotal : 0,
          customer_message: `Invoice ${number} for your visit.`,
          internal_notes: SECRET_NOTE,
          issued_at: status === 'draft' ? null : new Date(issue),
        })
        .returning<{ id: string }[]>('id');
      await db('invoice_items').insert({
        org_id: orgId,
        invoice_id: inv.id,
        position: 0,
        service: `Service visit ${number}`,
        description: 'Labour and materials',
        quantity: 1,
        unit_price_cents: subtotal,
        amount_cents: subtotal,
      });
      return { id: inv.id, total: subtotal };
    };

    const open = counts.openInvoices ?? 0;
    const invoices: { id: string; total: number }[] = [];
    for (let i = 0; i < (counts.invoices ?? 0); i++) {
      const inv = await addInvoice(i, i < open ? 'open' : 'paid');
      invoices.push(inv);
      out.invoiceIds.push(inv.id);
    }
    for (let i = 0; i < (counts.draftInvoices ?? 0); i++) out.draftInvoiceIds.push((await addInvoice(i, 'draft')).id);

    const paid = invoices.slice(open);
    for (let i = 0; i < (counts.payments ?? 0) && paid.length > 0; i++) {
      const inv = paid[i % paid.length];
      await db('payments').insert({
        org_id: orgId,
        lead_id: leadId,
        invoice_id: inv.id,
        amount_cents: 1000 + i,
        currency: 'USD',
        method: i % 2 ? 'check' : 'card_in_person',
        paid_at: new Date(now - i * day),
        reference: SECRET_NOTE,
      });
    }

    const upcoming = counts.upcomingJobs ?? 0;
    for (let i = 0; i < (counts.jobs ?? 0); i++) {
      const isUpcoming = i < upcoming;
      const [job] = await db('jobs')
        .insert({
          org_id: orgId,
          lead_id: leadId,
          service_type: isUpcoming ? `Upcoming visit ${i}` : `Completed visit ${i}`,
          scheduled_at: new Date(isUpcoming ? now + (i + 1) * day : now - (i + 1) * day),
          completed_at: isUpcoming ? null : new Date(now - (i + 1) * day + 7200_000),
          status: isUpcoming ? 'scheduled' : 'completed',
          technician: 'Terry Tech',
          address: '12 Maple Street, Springfield',
          customer_notes: 'Gate code at the side door.',
          internal_notes: SECRET_NOTE,
        })
        .returning<{ id: string }[]>('id');
      out.jobIds.push(job.id);
    }
    return out;
  });
}
