// A portal page is built only when its data changed (issue 16). Every view made
// portal_page() build the page's whole JSON (about 0.45 of its 0.75 ms per call,
// pgbench, one client), only for the web process to find it was the very text it
// had last rendered and send the kept HTML again (src/portal/page-cache.ts).
//
// Now what a page is built from has a version: the customer's, which every write to
// one of their records changes (the portal_versions row, bumped by a trigger on each
// table portal_page() reads them from), and the org row's (its xmin: every update of
// the business's name, brand, plan, Stripe state or logo writes a new row version).
// portal_page() takes the version the caller last rendered the page at (p_known):
// when it is still the current one, the visit is logged as before and the answer is
// {"same" : true}; otherwise the page as before, with its version.
//
// The bump runs when the writing transaction commits (a deferred constraint trigger):
// the version row is locked only for the moment of the commit, so writers of one
// customer's records queue there briefly instead of holding it while they wait on
// other rows (which could deadlock with a writer holding those rows). Versions come
// from one sequence, so a customer's version never returns to an earlier value.
// The version is read before the page's data: the data is then at least as new as
// the version it is kept under, and a write racing a view costs one more render.
// A view's own write (the first-opened stamp on a proposal or invoice) is not a change.
import type { Knex } from 'knex';
import { config } from '../src/config.js';
import { protectTenantTable } from '../src/db/rls.js';
import { expectOnce, redefineFunction } from '../src/db/redefine-function.js';

const OLD_SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid)';
const NEW_SIGNATURE = 'portal_page(text, text, uuid, integer, integer, text[], text, text, uuid, text)';
const WHAT = 'portal_page()';

/** How each table names the customer a row belongs to (the trigger's argument). */
const VERSIONED_TABLES: Record<string, 'lead' | 'self' | 'proposal' | 'invoice'> = {
  leads: 'self',
  properties: 'lead',
  proposals: 'lead',
  proposal_items: 'proposal',
  proposal_versions: 'proposal',
  proposal_signatures: 'proposal',
  jobs: 'lead',
  invoices: 'lead',
  invoice_items: 'invoice',
  payments: 'lead',
  checkout_sessions: 'lead',
  stripe_customers: 'lead',
  autopay_attempts: 'lead',
};

/** The edits to portal_page()'s definition: [text that must appear once, its replacement]. */
const EDITS: [string, string][] = [
  ['p_property uuid)', 'p_property uuid, p_known text)'],
  [
    '      v_prop uuid;\n',
    `      v_prop uuid;
      v_version text;
      v_same boolean;
`,
  ],
  [
    "      perform set_config('synchronous_commit', 'off', true);\n",
    `      perform set_config('synchronous_commit', 'off', true);
      -- [versions] The version of what the page is built from, read before the data; the caller holding
      -- the page rendered at it gets {"same" : true} and the page is not built again.
      v_version := coalesce((select pv.version from portal_versions pv where pv.lead_id = v_link.lead_id), 0)::text
                   || '.' || (select o.xmin::text from organizations o where o.id = v_link.org_id);
      v_same := p_known is not null and p_known = v_version;
`,
  ],
  ["      if v_tab = 'proposals' then\n", "      if v_same then\n        null;\n      elsif v_tab = 'proposals' then\n"],
  [
    "      if v_data is not null or v_tab not in ('proposal', 'invoice') then\n",
    "      if v_same or v_data is not null or v_tab not in ('proposal', 'invoice') then\n",
  ],
  [
    '      return json_build_object(\n',
    "      if v_same then\n        return json_build_object('same', true);\n      end if;\n      return json_build_object(\n",
  ],
  ["        'link_id', v_link.link_id,\n", "        'link_id', v_link.link_id,\n        'version', v_version,\n"],
];

/** Definer functions run as the app role, under row-level security with the org they set. */
async function ownByApp(knex: Knex, signature: string): Promise<void> {
  await knex.raw(`alter function ${signature} owner to ??`, [config.databaseAppRole]);
  await knex.raw(`revoke execute on function ${signature} from public`);
  await knex.raw(`grant execute on function ${signature} to ??`, [config.databaseAppRole]);
}

function edited(definition: string, edits: [string, string][]): string {
  return edits.reduce((text, [from, to]) => {
    expectOnce(text, from, WHAT);
    return text.replace(from, to);
  }, definition);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create sequence portal_version_seq');
  // No foreign key to leads: a lead's deletion cascades to rows whose triggers bump its version as it goes.
  await knex.raw(`
    create table portal_versions (
      lead_id uuid primary key,
      org_id uuid not null,
      version bigint not null
    )`);
  await protectTenantTable(knex, 'portal_versions');
  await knex.raw('grant usage on sequence portal_version_seq to ??', [config.databaseAppRole]);

  await knex.raw(`
    create function portal_version_bump() returns trigger
    language plpgsql security definer set search_path = pg_catalog, public, pg_temp set "app.org_id" to ''
    as $$
    declare
      v_row jsonb;
      v_lead uuid;
      v_done uuid;
    begin
      -- A view stamping when a document was first opened (portal_page() itself) changes nothing a page shows.
      if tg_op = 'UPDATE' and to_jsonb(old) - 'first_viewed_at' = to_jsonb(new) - 'first_viewed_at' then
        return null;
      end if;
      foreach v_row in array case tg_op when 'INSERT' then array[to_jsonb(new)] when 'DELETE' then array[to_jsonb(old)]
                                        else array[to_jsonb(old), to_jsonb(new)] end loop
        -- The row's own org, whoever wrote it (a definer function may write with no org set); restored on return.
        perform set_config('app.org_id', v_row->>'org_id', true);
        v_lead := case tg_argv[0]
          when 'self' then (v_row->>'id')::uuid
          when 'lead' then (v_row->>'lead_id')::uuid
          when 'proposal' then (select p.lead_id from proposals p where p.id = (v_row->>'proposal_id')::uuid)
          when 'invoice' then (select v.lead_id from invoices v where v.id = (v_row->>'invoice_id')::uuid)
        end;
        if v_lead is not null and v_lead is distinct from v_done then
          insert into portal_versions (lead_id, org_id, version) values (v_lead, (v_row->>'org_id')::uuid, nextval('portal_version_seq'))
          on conflict (lead_id) do update set version = excluded.version;
          v_done := v_lead;
        end if;
      end loop;
      return null;
    end $$`);
  await ownByApp(knex, 'portal_version_bump()');
  for (const [table, kind] of Object.entries(VERSIONED_TABLES)) {
    await knex.raw(
      `
      create constraint trigger portal_version after insert or update or delete on ??
      deferrable initially deferred for each row execute function portal_version_bump('${kind}')`,
      [table],
    );
  }

  await redefineFunction(knex, OLD_SIGNATURE, (definition) => edited(definition, EDITS));
  await knex.raw(`drop function ${OLD_SIGNATURE}`);
  await ownByApp(knex, NEW_SIGNATURE);
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, NEW_SIGNATURE, (definition) =>
    edited(
      definition,
      EDITS.map(([from, to]) => [to, from]),
    ),
  );
  await knex.raw(`drop function ${NEW_SIGNATURE}`);
  await ownByApp(knex, OLD_SIGNATURE);
  for (const table of Object.keys(VERSIONED_TABLES)) await knex.raw('drop trigger portal_version on ??', [table]);
  await knex.raw('drop function portal_version_bump()');
  await knex.raw('drop table portal_versions');
  await knex.raw('drop sequence portal_version_seq');
}
