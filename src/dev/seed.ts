// Demo data for development: one organization with customers at every stage,
// made through the same commands the dashboard uses, so it follows every rule.
import type { Knex } from 'knex';
import { createOrganization } from '../auth/commands.js';
import { hashPassword } from '../auth/passwords.js';
import type { Actor } from '../db/audit.js';
import { emailTaken } from '../db/lookups.js';
import { withoutOrg, withOrg, type Db } from '../db/tenancy.js';
import { addDays, todayIn } from '../lib/dates.js';
import type { LineItemInput } from '../lib/line-items.js';
import { createInvoice, createInvoiceFromProposal, issueInvoice } from '../invoices/commands.js';
import { approveProposal } from '../jobs/approve-proposal.js';
import { createJob, setJobStatus, updateJob } from '../jobs/commands.js';
import { createLead } from '../leads/commands.js';
import type { LeadInput } from '../leads/schema.js';
import { updateBranding } from '../orgs/commands.js';
import { getOrg } from '../orgs/queries.js';
import { recordPayment } from '../payments/manual.js';
import { createProposal, markProposalSent } from '../proposals/commands.js';

export const DEMO_EMAIL = 'demo@porchlight.test';
export const DEMO_PASSWORD = 'porchlight-demo-2026';

const TIME_ZONE = 'America/Chicago';

const CUSTOMERS: Omit<LeadInput, 'internal_notes' | 'company'>[] = [
  {
    first_name: 'Sarah',
    last_name: 'Whitfield',
    email: 'sarah.whitfield@example.com',
    phone: '+15125550142',
    address: '418 Pecan Grove Ln, Austin, TX 78704',
    stage: 'new',
  },
  {
    first_name: 'Michael',
    last_name: 'Okafor',
    email: 'm.okafor@example.com',
    phone: '+15125550178',
    address: '77 Bluebonnet Dr, Austin, TX 78745',
    stage: 'contacted',
  },
  {
    first_name: 'Amanda',
    last_name: 'Reyes',
    email: 'amanda.reyes@example.com',
    phone: '+15125550119',
    address: '2301 Riverside Dr #4, Austin, TX 78741',
    stage: 'won',
  },
  {
    first_name: 'Dale',
    last_name: 'Hutchins',
    email: null,
    phone: '+15125550163',
    address: '9 Live Oak Ct, Round Rock, TX 78664',
    stage: 'contacted',
  },
  {
    first_name: 'Priya',
    last_name: 'Natarajan',
    email: 'priya.n@example.com',
    phone: null,
    address: '1550 Barton Springs Rd, Austin, TX 78704',
    stage: 'new',
  },
  {
    first_name: "O'Brien & Sons",
    last_name: 'Properties',
    email: 'maintenance@obrien.example.com',
    phone: '+15125550100',
    address: '600 Congress Ave, Austin, TX 78701',
    stage: 'won',
  },
];

/** A line: quantity in units, unit price in cents. */
const line = (service: string, description: string, quantity: number, unitCents: number): LineItemInput => ({
  service,
  description,
  quantity_hundredths: Math.round(quantity * 100),
  unit_price_cents: unitCents,
});

const at = (days: number, time = '09:00') => ({ scheduled_date: addDays(todayIn(TIME_ZONE), days), scheduled_time: time });

async function seedRecords(db: Db, actor: Actor): Promise<number> {
  const org = await getOrg(db);
  await updateBranding(
    db,
    org,
    {
      name: org.name,
      brand_color: '#0f766e',
      phone: '+15125550199',
      whatsapp_number: '+15125550199',
      email: 'office@lonestargutters.example.com',
      address: '1200 E 6th St, Austin, TX 78702',
      time_zone: TIME_ZONE,
      currency: 'USD',
      locale: 'en-US',
    },
    actor,
  );
  const leads = [];
  for (const customer of CUSTOMERS) {
    leads.push(await createLead(db, { ...customer, company: null, internal_notes: 'Prefers texts after 5pm.' }, actor));
  }
  const [sarah, michael, amanda, , , obrien] = leads;
  const proposal = (leadId: string, title: string, items: LineItemInput[], customer_message = '') =>
    createProposal(
      db,
      { lead_id: leadId, title, tax_rate: 825, valid_until: addDays(todayIn(TIME_ZONE), 30), customer_message, internal_notes: '', items },
      actor,
    );

  // Sarah: a pending gutter proposal waiting for her answer.
  const gutters = await proposal(
    sarah.id,
    'Gutter replacement',
    [
      line('Seamless aluminum gutters', '6" K-style, 140 linear ft, color: bronze', 140, 1150),
      line('Downspouts', '3x4" with elbows', 6, 8500),
      line('Gutter guards', 'Micro-mesh, full perimeter', 140, 700),
    ],
    'Includes haul-away of the old gutters.',
  );
  await markProposalSent(db, gutters.id, actor);

  // Michael: approved AC tune-up by phone, job done, invoice partly paid by check.
  const ac = await proposal(michael.id, 'Spring AC service', [
    line('AC tune-up', 'Two-stage system, coil cleaning, refrigerant check', 1, 18900),
    line('Capacitor replacement', '45/5 MFD dual run capacitor', 1, 16500),
  ]);
  await markProposalSent(db, ac.id, actor);
  const { jobId } = await approveProposal(db, ac.id, { source: 'staff', approverName: 'Michael Okafor (by phone)' }, actor);
  await updateJob(
    db,
    jobId,
    {
      lead_id: michael.id,
      service_type: 'AC tune-up',
      ...at(-1),
      address: null,
      technician: 'Luis M.',
      arrival_window_minutes: 120,
      customer_notes: 'Replaced the weak run capacitor; system cooling normally.',
      internal_notes: '',
    },
    TIME_ZONE,
    actor,
  );
  await setJobStatus(db, jobId, 'completed', actor);
  const acInvoice = await createInvoiceFromProposal(db, ac.id, { currency: 'USD', time_zone: TIME_ZONE }, actor);
  await issueInvoice(db, acInvoice.id, actor);
  await recordPayment(db, { invoiceId: acInvoice.id, amountCents: 20000, method: 'check', reference: 'Check #1043' }, actor);

  // Amanda: completed cleaning, paid in full; next visit scheduled.
  const cleaning = await createJob(
    db,
    {
      lead_id: amanda.id,
      service_type: 'Gutter cleaning',
      ...at(-2, '10:30'),
      address: null,
      technician: 'Kim T.',
      arrival_window_minutes: 180,
      customer_notes: '',
      internal_notes: '',
    },
    TIME_ZONE,
    actor,
  );
  await setJobStatus(db, cleaning.id, 'completed', actor);
  const today = todayIn(TIME_ZONE);
  const cleaningInvoice = await createInvoice(
    db,
    {
      lead_id: amanda.id,
      job_id: cleaning.id,
      issue_date: today,
      due_date: addDays(today, 14),
      tax_rate: 0,
      customer_message: '',
      internal_notes: '',
      items: [line('Gutter cleaning', 'Two-story home, flush downspouts', 1, 22500)],
    },
    'USD',
    actor,
  );
  await issueInvoice(db, cleaningInvoice.id, actor);
  await recordPayment(db, { invoiceId: cleaningInvoice.id, amountCents: 22500, method: 'card_in_person' }, actor);
  await createJob(
    db,
    {
      lead_id: amanda.id,
      service_type: 'Gutter cleaning (fall)',
      ...at(12),
      address: null,
      technician: 'Kim T.',
      arrival_window_minutes: 180,
      customer_notes: '',
      internal_notes: '',
    },
    TIME_ZONE,
    actor,
  );

  // A property manager with an open invoice.
  const inspection = await createInvoice(
    db,
    {
      lead_id: obrien.id,
      issue_date: today,
      due_date: addDays(today, 30),
      tax_rate: 825,
      customer_message: 'Thank you for your business.',
      internal_notes: '',
      items: [line('Furnace inspection', 'Units 101–104', 4, 9500), line('Filter replacement', 'MERV 11, 20x25x1', 8, 2400)],
    },
    'USD',
    actor,
  );
  await issueInvoice(db, inspection.id, actor);
  return leads.length;
}

/** Seeds the demo org unless its owner already exists. Returns whether it seeded. */
export async function seedDemo(knex?: Knex): Promise<boolean> {
  if (await withoutOrg((db) => emailTaken(DEMO_EMAIL, db), knex)) return false;
  const { orgId, userId } = await createOrganization(
    {
      name: 'Lone Star Gutters & HVAC',
      plan: 'starter',
      timeZone: TIME_ZONE,
      owner: { name: 'Jordan Demo', email: DEMO_EMAIL, passwordHash: await hashPassword(DEMO_PASSWORD) },
    },
    knex,
  );
  await withOrg(orgId, (db) => seedRecords(db, { type: 'user', userId, label: DEMO_EMAIL }), knex);
  return true;
}
