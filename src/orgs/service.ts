// Organizations: creation and the row every admin page needs.
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { withOrg, type Db } from '../db/tenancy.js';
import { recordAudit } from '../audit.js';
import type { PlanId } from '../plans.js';

export interface OrgRow {
  id: string;
  name: string;
  plan: PlanId;
  time_zone: string;
  currency: string;
  locale: string;
  brand_color: string;
  logo_id: string | null;
  phone: string | null;
  whatsapp_number: string | null;
  email: string | null;
  address: string | null;
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
}

export interface NewOrganization {
  name: string;
  owner: { name: string; email: string; passwordHash: string };
  plan?: PlanId;
  timeZone?: string;
}

/** Creates an organization and its owner in one transaction. */
export async function createOrganization(
  input: NewOrganization,
  knex?: Knex,
): Promise<{ orgId: string; userId: string }> {
  const orgId = crypto.randomUUID();
  return withOrg(
    orgId,
    async (db) => {
      await db('organizations').insert({
        id: orgId,
        name: input.name,
        plan: input.plan ?? 'free',
        ...(input.timeZone ? { time_zone: input.timeZone } : {}),
      });
      const [user] = await db('users')
        .insert({
          org_id: orgId,
          email: input.owner.email,
          name: input.owner.name,
          password_hash: input.owner.passwordHash,
          role: 'owner',
        })
        .returning<{ id: string }[]>('id');
      await recordAudit(db, {
        actor: { type: 'user', userId: user.id, label: input.owner.email },
        action: 'org.created',
        subjectType: 'organization',
        subjectId: orgId,
        data: { name: input.name },
      });
      return { orgId, userId: user.id };
    },
    knex,
  );
}

export async function getOrg(db: Db): Promise<OrgRow> {
  return db('organizations').first<OrgRow>('*');
}
