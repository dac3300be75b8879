// A portal view's visit row is checked against one parent instead of three (issue 16).
// Every view inserts a portal_visits row, and each of its three foreign keys (to the
// org, the lead and the link) ran its own lookup and share-locked its parent row;
// with many views of one customer in flight those locks on the same three rows are
// shared between transactions, which Postgres records in a multixact per row. One
// key, (org_id, lead_id, link_id) → portal_links, says all three at once and more:
// the visit's customer is its link's customer (before, lead and link were checked
// separately). The link's own keys reach the org and the lead, and deleting an org or
// a link still deletes its visits (a lead with a link can't be deleted, as before).
// pgbench, 10 clients calling portal_page() for an unchanged page (the scratch
// database bench/portal.ts seeds): 3,500–3,800 calls/s with the three keys,
// 5,000–6,000 with this one.
import type { Knex } from 'knex';

const OLD_KEYS = [
  ['portal_visits_org_id_fkey', 'foreign key (org_id) references organizations(id) on delete cascade'],
  ['portal_visits_org_id_link_id_fkey', 'foreign key (org_id, link_id) references portal_links(org_id, id) on delete cascade'],
  ['portal_visits_org_id_lead_id_fkey', 'foreign key (org_id, lead_id) references leads(org_id, id) on delete cascade'],
] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table portal_links add constraint portal_links_org_lead_id_key unique (org_id, lead_id, id)');
  // Checked against every visit as it is added: portal views wait for that one scan of the log.
  await knex.raw(`alter table portal_visits add constraint portal_visits_link_fkey
    foreign key (org_id, lead_id, link_id) references portal_links(org_id, lead_id, id) on delete cascade`);
  for (const [name] of OLD_KEYS) await knex.raw('alter table portal_visits drop constraint ??', [name]);
}

export async function down(knex: Knex): Promise<void> {
  for (const [name, definition] of OLD_KEYS) await knex.raw(`alter table portal_visits add constraint ?? ${definition}`, [name]);
  await knex.raw('alter table portal_visits drop constraint portal_visits_link_fkey');
  await knex.raw('alter table portal_links drop constraint portal_links_org_lead_id_key');
}
