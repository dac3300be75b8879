// Message templates per language (issue 14, point 1): an org's own wording of a
// channel + context is kept for each language its customers read, and the
// sender picks the customer's (src/messaging/templates.ts). Templates saved
// before this are in the org's language (its locale's: es-MX → es; a language
// we don't have → en). Runs in one transaction (knex default).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table message_templates add column language text`);
  // message_templates and organizations force row-level security, which would hide
  // every row from this cross-org update as the table owner: lifted for this transaction only.
  await knex.raw('alter table message_templates no force row level security');
  await knex.raw('alter table organizations no force row level security');
  await knex.raw(`
    update message_templates t
       set language = case when lower(split_part(o.locale, '-', 1)) in ('en', 'es') then lower(split_part(o.locale, '-', 1)) else 'en' end
      from organizations o
     where o.id = t.org_id`);
  await knex.raw('alter table organizations force row level security');
  await knex.raw('alter table message_templates force row level security');
  await knex.raw(`update message_templates set language = 'en' where language is null`);
  // A row written without one (by hand, an old script) is English, the default language.
  await knex.raw(`alter table message_templates alter column language set not null, alter column language set default 'en',
                    add constraint message_templates_language_check check (language in ('en', 'es'))`);
  await knex.raw(`alter table message_templates drop constraint message_templates_pkey,
                    add primary key (org_id, channel, context, language)`);
}

export async function down(knex: Knex): Promise<void> {
  // One wording per channel + context again: the org's language's is kept.
  await knex.raw('alter table message_templates no force row level security');
  await knex.raw('alter table organizations no force row level security');
  await knex.raw(`
    delete from message_templates t
     using organizations o
     where o.id = t.org_id
       and t.language <> case when lower(split_part(o.locale, '-', 1)) in ('en', 'es') then lower(split_part(o.locale, '-', 1)) else 'en' end`);
  await knex.raw('alter table organizations force row level security');
  await knex.raw('alter table message_templates force row level security');
  await knex.raw(`delete from message_templates a using message_templates b
                   where a.org_id = b.org_id and a.channel = b.channel and a.context = b.context and a.language > b.language`);
  await knex.raw(`alter table message_templates drop constraint message_templates_pkey,
                    add primary key (org_id, channel, context)`);
  await knex.raw('alter table message_templates drop column language');
}
