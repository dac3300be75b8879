// Sequential, gap-free numbers per org for proposals and invoices.
import { currentOrgId, type Db } from '../tenancy.js';

/**
 * Takes the next number inside the caller's transaction. The upsert locks the
 * counter row until commit, so concurrent creators queue up; a rollback gives
 * the number back, so numbers never skip.
 */
export async function allocateNumber(db: Db, name: 'proposal' | 'invoice'): Promise<number> {
  const { rows } = await db.raw<{ rows: { last_value: number }[] }>(
    `insert into org_counters (org_id, name, last_value) values (?, ?, 1)
     on conflict (org_id, name) do update set last_value = org_counters.last_value + 1
     returning last_value`,
    [currentOrgId(db), name],
  );
  return Number(rows[0].last_value);
}
