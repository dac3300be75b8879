// Small factories for test data. Each test makes its own orgs, so tests never
// see each other's rows (RLS keeps them apart). Names and notes are hostile but
// legal (./hostile.ts): every page and message that shows them must escape them.
import crypto from 'node:crypto';
import { hashPassword } from '../../src/auth/passwords.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createOrganization } from '../../src/auth/commands.js';
import type { PlanId } from '../../src/plans.js';
import { HOSTILE_NAME, HOSTILE_NOTE, OWNER_NAME, RTL_EMOJI_NAME } from './hostile.js';

const TEST_PASSWORD = 'porch-light-test-password-42';
let passwordHash: Promise<string> | undefined;

export interface TestOrg {
  orgId: string;
  userId: string;
  email: string;
  password: string;
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}

export async function createTestOrg(options: { plan?: PlanId; name?: string } = {}): Promise<TestOrg> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const email = uniqueEmail('owner');
  const { orgId, userId } = await createOrganization({
    name: options.name ?? `${HOSTILE_NAME} ${email.slice(6, 14)}`,
    plan: options.plan ?? 'free',
    owner: { name: OWNER_NAME, email, passwordHash: await passwordHash },
  });
  return { orgId, userId, email, password: TEST_PASSWORD };
}

export async function createTestStaff(orgId: string): Promise<TestOrg> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const email = uniqueEmail('staff');
  const hash = await passwordHash;
  const userId = await withOrg(orgId, async (db) => {
    const [row] = await db('users')
      .insert({ org_id: orgId, email, name: 'שמואל <Staff> 🔧', password_hash: hash, role: 'staff' })
      .returning<{ id: string }[]>('id');
    return row.id;
  });
  return { orgId, userId, email, password: TEST_PASSWORD };
}

export interface LeadAttrs {
  first_name?: string;
  last_name?: string;
  email?: string | null;
  phone?: string | null;
  address?: string | null;
  stage?: string;
}

export async function createTestLead(orgId: string, attrs: LeadAttrs = {}): Promise<{ id: string }> {
  return withOrg(orgId, async (db) => {
    const [row] = await db('leads')
      .insert({
        org_id: orgId,
        first_name: RTL_EMOJI_NAME,
        last_name: HOSTILE_NAME,
        email: uniqueEmail('customer'),
        phone: '+15555550123',
        address: '12 Maple Street, Springfield "rear gate" <b>',
        internal_notes: HOSTILE_NOTE,
        ...attrs,
      })
      .returning<{ id: string }[]>('id');
    return row;
  });
}
