// Demo data for development: one organization with customers at every stage.
import type { Knex } from 'knex';
import { hashPassword } from '../auth/passwords.js';
import { withOrg, withoutOrg, type Db } from '../db/tenancy.js';
import { createOrganization } from '../orgs/service.js';

export const DEMO_EMAIL = 'demo@porchlight.test';
export const DEMO_PASSWORD = 'porchlight-demo-2026';

interface Line {
  service: string;
  description: string;
  quantity: number;
  unit: number; // cents
}

const CUSTOMERS = [
  { first_name: 'Sarah', last_name: 'Whitfield', email: 'sarah.whitfield@example.com', phone: '+15125550142', address: '418 Pecan Grove Ln, Austin, TX 78704', stage: 'proposal_sent' },
  { first_name: 'Michael', last_name: 'Okafor', email: 'm.okafor@example.com', phone: '+15125550178', address: '77 Bluebonnet Dr, Austin, TX 78745', stage: 'won' },
  { first_name: 'Amanda', last_name: 'Reyes', email: 'amanda.reyes@example.com', phone: '+15125550119', address: '2301 Riverside Dr #4, Austin, TX 78741', stage: 'won' },
  { first_name: 'Dale', last_name: 'Hutchins', email: null, phone: '+15125550163', address: '9 Live Oak Ct, Round Rock, TX 78664', stage: 'contacted' },
  { first_name: 'Priya', last_name: 'Natarajan', email: 'priya.n@example.com', phone: null, address: '1550 Barton Springs Rd, Austin, TX 78704', stage: 'new' },
  { first_name: 'Greenway', last_name: 'Properties', email: 'maintenance@greenway.example.com', phone: '+15125550100', address: '600 Congress Ave, Austin, TX 78701', stage: 'won' },
];

async function nextNumber(db: Db, orgId: string, name: 'proposal' | 'invoice'): Promise<number> {
  const [row] = await db('org_counters')
    .insert({ org_id: orgId, name, last_value: 1 })
    .onConflict(['org_id', 'name'])
    .merge({ last_value: db.raw('org_counters.last_value + 1') })
    .returning<{ last_value: number }[]>('last_value');
  return row.last_value;
}

function totals(lines: Line[], taxBps: number) {
  const subtotal = lines.reduce((sum, l) => sum + Math.round(l.quantity * l.unit), 0);
  const tax = Math.round((subtotal * taxBps) / 10_000);
  return { subtotal_cents: subtotal, tax_cents: tax, total_cents: subtotal + tax, tax_rate_bps: taxBps };
}

function items(orgId: string, key: 'proposal_id' | 'invoice_id', parentId: string, lines: Line[]) {
  return lines.map((l, position) => ({
    org_id: orgId,
    [key]: parentId,
    position,
    service: l.service,
    description: l.description,
    quantity: l.quantity,
    unit_price_cents: l.unit,
    amount_cents: Math.round(l.quantity * l.unit),
  }));
}

const daysFromNow = (days: number) => new Date(Date.now() + days * 86_400_000);
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Seeds the demo org unless its owner already exists. Returns whether it seeded. */
export async function seedDemo(knex?: Knex): Promise<boolean> {
  const exists = await withoutOrg(async (db) => {
    const { rows } = await db.raw<{ rows: { taken: boolean }[] }>('select auth_email_taken(?) as taken', [DEMO_EMAIL]);
    return rows[0].taken;
  }, knex);
  if (exists) return false;

  const { orgId, userId } = await createOrganization(
    {
      name: 'Lone Star Gutters & HVAC',
      plan: 'starter',
      timeZone: 'America/Chicago',
      owner: { name: 'Jordan Demo', email: DEMO_EMAIL, passwordHash: await hashPassword(DEMO_PASSWORD) },
    },
    knex,
  );

  await withOrg(
    orgId,
    async (db) => {
      await db('organizations').where({ id: orgId }).update({
        phone: '+15125550199',
        whatsapp_number: '+15125550199',
        email: 'office@lonestargutters.example.com',
        address: '1200 E 6th St, Austin, TX 78702',
        brand_color: '#0f766e',
      });
      const leads = await db('leads')
        .insert(CUSTOMERS.map((c) => ({ ...c, org_id: orgId, created_by: userId, internal_notes: 'Prefers texts after 5pm.' })))
        .returning<{ id: string; first_name: string }[]>(['id', 'first_name']);
      const [sarah, michael, amanda, , , greenway] = leads;

      // Sarah: a pending gutter proposal waiting for her answer.
      const gutterLines: Line[] = [
        { service: 'Seamless aluminum gutters', description: '6" K-style, 140 linear ft, color: bronze', quantity: 140, unit: 1150 },
        { service: 'Downspouts', description: '3x4" with elbows', quantity: 6, unit: 8500 },
        { service: 'Gutter guards', description: 'Micro-mesh, full perimeter', quantity: 140, unit: 700 },
      ];
      const [pending] = await db('proposals')
        .insert({ org_id: orgId, lead_id: sarah.id, number: await nextNumber(db, orgId, 'proposal'), title: 'Gutter replacement', status: 'pending', sent_at: db.fn.now(), created_by: userId, customer_message: 'Includes haul-away of the old gutters.', ...totals(gutterLines, 825) })
        .returning<{ id: string }[]>('id');
      await db('proposal_items').insert(items(orgId, 'proposal_id', pending.id, gutterLines));

      // Michael: approved AC tune-up, job done, invoice partly paid.
      const acLines: Line[] = [
        { service: 'AC tune-up', description: 'Two-stage system, coil cleaning, refrigerant check', quantity: 1, unit: 18900 },
        { service: 'Capacitor replacement', description: '45/5 MFD dual run capacitor', quantity: 1, unit: 16500 },
      ];
      const [approved] = await db('proposals')
        .insert({ org_id: orgId, lead_id: michael.id, number: await nextNumber(db, orgId, 'proposal'), title: 'Spring AC service', status: 'approved', sent_at: daysFromNow(-20), approved_at: daysFromNow(-18), approval_source: 'staff', approved_by_name: 'Michael Okafor (by phone)', approved_by_user_id: userId, created_by: userId, ...totals(acLines, 825) })
        .returning<{ id: string }[]>('id');
      await db('proposal_items').insert(items(orgId, 'proposal_id', approved.id, acLines));
      const [acJob] = await db('jobs')
        .insert({ org_id: orgId, lead_id: michael.id, proposal_id: approved.id, service_type: 'AC tune-up', scheduled_at: daysFromNow(-10), completed_at: daysFromNow(-10), address: '77 Bluebonnet Dr, Austin, TX 78745', technician: 'Luis M.', status: 'completed', customer_notes: 'Replaced the weak run capacitor; system cooling normally.', created_by: userId })
        .returning<{ id: string }[]>('id');
      const acTotals = totals(acLines, 825);
      const [acInvoice] = await db('invoices')
        .insert({ org_id: orgId, lead_id: michael.id, proposal_id: approved.id, job_id: acJob.id, number: await nextNumber(db, orgId, 'invoice'), status: 'partially_paid', currency: 'USD', issue_date: isoDay(daysFromNow(-9)), due_date: isoDay(daysFromNow(21)), issued_at: daysFromNow(-9), amount_paid_cents: 20000, created_by: userId, ...acTotals })
        .returning<{ id: string }[]>('id');
      await db('invoice_items').insert(items(orgId, 'invoice_id', acInvoice.id, acLines));
      await db('payments').insert({ org_id: orgId, lead_id: michael.id, invoice_id: acInvoice.id, amount_cents: 20000, currency: 'USD', method: 'check', reference: 'Check #1043', paid_at: daysFromNow(-8), recorded_by: userId });

      // Amanda: completed cleaning, paid in full; next visit scheduled.
      const cleanLines: Line[] = [{ service: 'Gutter cleaning', description: 'Two-story home, flush downspouts', quantity: 1, unit: 22500 }];
      const [cleanJob] = await db('jobs')
        .insert({ org_id: orgId, lead_id: amanda.id, service_type: 'Gutter cleaning', scheduled_at: daysFromNow(-30), completed_at: daysFromNow(-30), address: '2301 Riverside Dr #4, Austin, TX 78741', technician: 'Kim T.', status: 'completed', created_by: userId })
        .returning<{ id: string }[]>('id');
      const cleanTotals = totals(cleanLines, 0);
      const [paidInvoice] = await db('invoices')
        .insert({ org_id: orgId, lead_id: amanda.id, job_id: cleanJob.id, number: await nextNumber(db, orgId, 'invoice'), status: 'paid', currency: 'USD', issue_date: isoDay(daysFromNow(-30)), due_date: isoDay(daysFromNow(-16)), issued_at: daysFromNow(-30), amount_paid_cents: cleanTotals.total_cents, created_by: userId, ...cleanTotals })
        .returning<{ id: string }[]>('id');
      await db('invoice_items').insert(items(orgId, 'invoice_id', paidInvoice.id, cleanLines));
      await db('payments').insert({ org_id: orgId, lead_id: amanda.id, invoice_id: paidInvoice.id, amount_cents: cleanTotals.total_cents, currency: 'USD', method: 'card_in_person', paid_at: daysFromNow(-29), recorded_by: userId });
      await db('jobs').insert({ org_id: orgId, lead_id: amanda.id, service_type: 'Gutter cleaning (fall)', scheduled_at: daysFromNow(12), address: '2301 Riverside Dr #4, Austin, TX 78741', technician: 'Kim T.', status: 'scheduled', created_by: userId });

      // Greenway: a property manager with an open invoice.
      const pmLines: Line[] = [
        { service: 'Furnace inspection', description: 'Units 101–104', quantity: 4, unit: 9500 },
        { service: 'Filter replacement', description: 'MERV 11, 20x25x1', quantity: 8, unit: 2400 },
      ];
      const pmTotals = totals(pmLines, 825);
      const [openInvoice] = await db('invoices')
        .insert({ org_id: orgId, lead_id: greenway.id, number: await nextNumber(db, orgId, 'invoice'), status: 'open', currency: 'USD', issue_date: isoDay(daysFromNow(-3)), due_date: isoDay(daysFromNow(27)), issued_at: daysFromNow(-3), created_by: userId, ...pmTotals })
        .returning<{ id: string }[]>('id');
      await db('invoice_items').insert(items(orgId, 'invoice_id', openInvoice.id, pmLines));

      await db('audit_events').insert({ org_id: orgId, actor_type: 'system', action: 'org.seeded', data: JSON.stringify({ customers: leads.length }) });
    },
    knex,
  );
  return true;
}
