// Sign-up confirms the address before any account exists: the form stores a
// request and emails a one-time link; opening it and choosing a password
// creates the organization and its owner. The rows belong to no org, so the
// app role gets no grant on the table: it goes through the narrow SECURITY
// DEFINER functions below, owned by the lookup role. Runs in one transaction.
import type { Knex } from 'knex';
import { LOOKUP_ROLE, ownDefinerFunction } from '../src/db/rls.js';

const HEADER = 'security definer set search_path = pg_catalog, public, pg_temp';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table signup_requests (
      id uuid primary key default gen_random_uuid(),
      email text not null check (email = lower(email) and email like '%@%'),
      org_name text not null check (length(org_name) between 1 and 200),
      name text not null check (length(name) between 1 and 200),
      token_sha256 text not null unique check (token_sha256 ~ '^[0-9a-f]{64}$'),
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`);
  await knex.raw('create index signup_requests_email_idx on signup_requests (email)');
  await knex.raw('create index signup_requests_expires_idx on signup_requests (expires_at)');
  await knex.raw(`grant select, insert, update, delete on signup_requests to ${LOOKUP_ROLE}`);

  // Only the newest link for an address works; requests expired a day ago are dropped.
  await knex.raw(`
    create function signup_request_create(p_email text, p_org_name text, p_name text, p_sha256 text, p_seconds integer)
    returns void language sql volatile ${HEADER}
    as $$
      delete from signup_requests where email = lower(p_email) or expires_at < now() - interval '1 day';
      insert into signup_requests (email, org_name, name, token_sha256, expires_at)
      values (lower(p_email), p_org_name, p_name, p_sha256, now() + make_interval(secs => p_seconds));
    $$`);
  await ownDefinerFunction(knex, 'signup_request_create(text, text, text, text, integer)');

  await knex.raw(`
    create function signup_request_by_token_hash(p_sha256 text)
    returns table (request_id uuid, email text, org_name text, name text, expired boolean, used boolean)
    language sql stable ${HEADER}
    as $$ select r.id, r.email, r.org_name, r.name, r.expires_at <= now(), r.used_at is not null
          from signup_requests r where r.token_sha256 = p_sha256 $$`);
  await ownDefinerFunction(knex, 'signup_request_by_token_hash(text)');

  // The one-time use: a second call, or one after expiry, returns nothing.
  await knex.raw(`
    create function signup_request_use(p_request_id uuid)
    returns table (email text, org_name text, name text)
    language sql volatile ${HEADER}
    as $$ update signup_requests set used_at = now()
          where id = p_request_id and used_at is null and expires_at > now()
          returning email, org_name, name $$`);
  await ownDefinerFunction(knex, 'signup_request_use(uuid)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'drop function if exists signup_request_use(uuid), signup_request_by_token_hash(text), signup_request_create(text, text, text, text, integer)',
  );
  await knex.raw('drop table if exists signup_requests');
}
