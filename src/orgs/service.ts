// Organizations: creation and the row every admin page needs.
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { withOrg, type Db } from '../db/tenancy.js';
import { recordAudit } from '../audit.js';
import type { Actor } from '../audit.js';
import type { PlanId } from '../plans.js';
import type { BrandingInput } from './schema.js';

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
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  subscription_status: string | null;
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

const BRANDING_FIELDS = ['name', 'brand_color', 'phone', 'whatsapp_number', 'email', 'address', 'time_zone', 'currency', 'locale'] as const;

/** Saves branding and business details; the audit event lists what changed. */
export async function updateBranding(db: Db, org: OrgRow, input: BrandingInput, actor: Actor): Promise<string[]> {
  const changed = BRANDING_FIELDS.filter((field) => (org[field] ?? null) !== (input[field] ?? null));
  if (changed.length === 0) return changed;
  await db('organizations')
    .where({ id: org.id })
    .update({ ...Object.fromEntries(changed.map((f) => [f, input[f]])), updated_at: db.fn.now() });
  await recordAudit(db, {
    actor,
    action: 'org.branding_updated',
    subjectType: 'organization',
    subjectId: org.id,
    data: { changed },
  });
  return changed;
}
