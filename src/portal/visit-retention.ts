// The visit log keeps 90 days: a scheduled job (workers/portal-visits-retention.ts)
// deletes older visits in batches. The 90 days live in the SQL function and its
// row policy (migrations/20261207020000_portal_visits.ts), so no caller can shorten them.
import { prunePortalVisits } from '../db/lookups.js';
import { logger } from '../logger.js';

const BATCH = 5_000;

/** Deletes every visit older than 90 days; returns how many. */
export async function pruneOldVisits(batch = BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await prunePortalVisits(batch);
    total += deleted;
    if (deleted < batch) break;
  }
  if (total > 0) logger.info({ deleted: total }, 'portal visits older than 90 days deleted');
  return total;
}
