// Stored messages no longer hold the portal link (src/messaging/link-placeholder.ts):
// rows written before that change still do. Replace every portal URL
// (…/p/<43-character token>) in them with the placeholder, so the database keeps
// no working link. Sent rows then show …/p/•••••• to staff; unsent rows get
// the link filled in (or fail as revoked) by the worker like new ones.
// Runs in one transaction (knex default).
import type { Knex } from 'knex';

const PLACEHOLDER = '[[porchlight:portal-link]]';
// Scheme, host and path up to /p/, then the token; no whitespace, quotes or tags inside.
const PORTAL_URL = `https?://[^[:space:]"'<>]*/p/[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`;

export async function up(knex: Knex): Promise<void> {
  // message_deliveries forces row-level security, which would hide every row from
  // this cross-org update when it runs as the table owner. Lifted for this
  // transaction only; the ALTERs and the UPDATE commit or roll back together.
  await knex.raw('alter table message_deliveries no force row level security');
  await knex.raw(
    `update message_deliveries
        set subject   = regexp_replace(subject, ?, ?, 'g'),
            body_text = regexp_replace(body_text, ?, ?, 'g'),
            body_html = regexp_replace(body_html, ?, ?, 'g')
      where subject ~ ? or body_text ~ ? or body_html ~ ?`,
    [PORTAL_URL, PLACEHOLDER, PORTAL_URL, PLACEHOLDER, PORTAL_URL, PLACEHOLDER, PORTAL_URL, PORTAL_URL, PORTAL_URL],
  );
  await knex.raw('alter table message_deliveries force row level security');
}

export async function down(): Promise<void> {
  // The tokens are gone from these rows on purpose; there is nothing to restore.
}
