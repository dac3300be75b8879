// Helpers shared by the portal tests.
import pg from 'pg';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { generatePortalLink } from '../../src/portal-links/commands.js';
import { portalClientKey, portalMissLimiter } from '../../src/portal/routes.js';
import type { PlanId } from '../../src/plans.js';
import type { Request } from 'express';
import type { Store } from 'express-rate-limit';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { seedCustomerRecords, type SeedCounts } from './fixtures.js';

/** A new link for the lead; returns the token (the last path segment of its URL). */
export async function linkFor(orgId: string, leadId: string, userId?: string): Promise<{ id: string; token: string; url: string }> {
  const { link } = await withOrg(orgId, (db) =>
    generatePortalLink(db, leadId, userId ? { type: 'user', userId } : { type: 'system', label: 'test' }),
  );
  return { id: link.id, url: link.url, token: link.url.split('/p/')[1] };
}

/** An org on `plan` with one customer, their records and an active portal link. */
export async function customerWithLink(plan: PlanId, counts: SeedCounts) {
  const org = await createTestOrg({ plan });
  const lead = await createTestLead(org.orgId);
  const records = await seedCustomerRecords(org.orgId, lead.id, counts);
  const link = await linkFor(org.orgId, lead.id);
  return { org, lead, records, link };
}

/** Clears the failed-lookup counter of the local test client. */
export async function resetPortalMisses(): Promise<void> {
  // express-rate-limit types the limiter's resetKey as returning void, but it is the store's resetKey,
  // which is async (Redis and memory stores alike): typed as the store's, the reset is awaited.
  const limiter: { resetKey: Store['resetKey'] } = portalMissLimiter;
  for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) {
    await limiter.resetKey(portalClientKey({ ip } as Request));
  }
}

/** Counts database round trips (every Client#query call) while fn runs. */
export async function countRoundTrips<T>(fn: () => Promise<T>): Promise<{ result: T; roundTrips: number }> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let roundTrips = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    roundTrips += 1;
    return original.apply(this, args);
  };
  try {
    const result = await fn();
    return { result, roundTrips };
  } finally {
    proto.query = original;
  }
}

export async function activeLinkCount(orgId: string): Promise<number> {
  const [{ count }] = await getDb()('portal_links')
    .where({ org_id: orgId })
    .whereNull('revoked_at')
    .count<{ count: string }[]>('* as count');
  return Number(count);
}
