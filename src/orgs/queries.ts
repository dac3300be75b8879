// Reading the organization record.
import type { OrgRow } from '../db/rows.js';
import type { Db } from '../db/tenancy.js';

export async function getOrg(db: Db): Promise<OrgRow> {
  return db('organizations').first<OrgRow>('*');
}

export async function currentLogoSha(db: Db, logoId: string | null): Promise<string | null> {
  if (!logoId) return null;
  const row = await db('org_logos').where({ id: logoId }).first<{ sha256: string } | undefined>('sha256');
  return row?.sha256 ?? null;
}
