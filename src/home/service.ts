// The contractor's home page: what needs attention today.
import type { Db } from '../db/tenancy.js';
import { listProposals } from '../proposals/service.js';
import { listUpcomingJobs } from '../jobs/service.js';
import { listInvoices, openBalance } from '../invoices/service.js';
import { listPayments } from '../payments/service.js';

export async function loadHome(db: Db) {
  const [pendingProposals, pendingTotal, unpaid, unpaidInvoices, upcomingJobs, recentPayments] = await Promise.all([
    listProposals(db, { status: 'pending', limit: 10 }),
    db('proposals')
      .where({ status: 'pending' })
      .first(db.raw('count(*)::int as count'), db.raw('coalesce(sum(total_cents), 0)::bigint as total_cents')) as Promise<{ count: number; total_cents: number }>,
    openBalance(db),
    listInvoices(db, { unpaidOnly: true, limit: 10 }),
    listUpcomingJobs(db, 10),
    listPayments(db, { limit: 10 }),
  ]);
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
