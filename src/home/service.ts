// The contractor's home page: what needs attention today.
import type { Db } from '../db/tenancy.js';
import { listProposals } from '../proposals/service.js';
import { listUpcomingJobs } from '../jobs/service.js';
import { listInvoices, openBalance } from '../invoices/service.js';
import { listPayments } from '../payments/service.js';

export async function loadHome(db: Db) {
  // One transaction is one connection: queries run one after another.
  const pendingProposals = await listProposals(db, { status: 'pending', limit: 10 });
  const pendingTotal = (await db('proposals')
    .where({ status: 'pending' })
    .first(db.raw('count(*)::int as count'), db.raw('coalesce(sum(total_cents), 0)::bigint as total_cents'))) as { count: number; total_cents: number };
  const unpaid = await openBalance(db);
  const unpaidInvoices = await listInvoices(db, { unpaidOnly: true, limit: 10 });
  const upcomingJobs = await listUpcomingJobs(db, 10);
  const recentPayments = await listPayments(db, { limit: 10 });
  return {
    pendingProposals,
    pendingCount: Number(pendingTotal.count),
    pendingTotalCents: Number(pendingTotal.total_cents),
    unpaidBalanceCents: unpaid.balance_cents,
    unpaidCount: unpaid.invoice_count,
    unpaidInvoices,
    upcomingJobs,
    recentPayments,
  };
}
