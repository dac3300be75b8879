// Requests for work from the portal (issue #14, point 6).
// - work_requests: what the customer asked for, where (free text, the customer's
//   address by default; a property reference may come later), when suits them, and
//   optionally the upcoming visit they asked to move (job_id, "ask to reschedule").
//   new → converted (into a draft proposal or a job, linked here) or closed.
// - work_request_photos: up to 5 photos per request, re-encoded (src/lib/images.ts)
//   and stored as bytea like logos; served to the business's dashboard only.
// Both are tenant tables under forced RLS. Runs in one transaction.
import type { Knex } from 'knex';
import { protectTenantTable } from '../src/db/rls.js';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table work_requests (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      lead_id uuid not null,
      portal_link_id uuid,
      job_id uuid,
      kind text not null check (kind in ('work', 'reschedule')),
      description text not null check (length(description) between 1 and 2000),
      address text check (length(address) <= 500),
      preferred_times text not null default '' check (length(preferred_times) <= 500),
      status text not null default 'new' check (status in ('new', 'converted', 'closed')),
      proposal_id uuid,
      converted_job_id uuid,
      converted_at timestamptz,
      closed_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, id),
      foreign key (org_id, lead_id) references leads(org_id, id),
      foreign key (org_id, portal_link_id) references portal_links(org_id, id),
      foreign key (org_id, job_id) references jobs(org_id, id),
      foreign key (org_id, proposal_id) references proposals(org_id, id),
      foreign key (org_id, converted_job_id) references jobs(org_id, id),
      check ((kind = 'reschedule') = (job_id is not null)),
      check ((status = 'converted') = (proposal_id is not null or converted_job_id is not null)),
      check ((status = 'converted') = (converted_at is not null)),
      check ((status = 'closed') = (closed_at is not null))
    )`);
  await knex.raw('create index work_requests_list_idx on work_requests (org_id, created_at desc, id)');
  await knex.raw("create index work_requests_new_idx on work_requests (org_id) where status = 'new'");
  await knex.raw('create index work_requests_lead_idx on work_requests (org_id, lead_id)');
  await protectTenantTable(knex, 'work_requests');

  await knex.raw(`
    create table work_request_photos (
      id uuid primary key default gen_random_uuid(),
      org_id uuid not null references organizations(id) on delete cascade,
      request_id uuid not null,
      position smallint not null check (position between 0 and 4),
      content_type text not null check (content_type in ('image/jpeg')),
      width integer not null check (width > 0),
      height integer not null check (height > 0),
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      bytes bytea not null check (octet_length(bytes) <= 4194304),
      created_at timestamptz not null default now(),
      unique (org_id, request_id, position),
      foreign key (org_id, request_id) references work_requests(org_id, id) on delete cascade
    )`);
  await protectTenantTable(knex, 'work_request_photos');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists work_request_photos');
  await knex.raw('drop table if exists work_requests');
}
