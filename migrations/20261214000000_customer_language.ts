// The language a customer reads the portal, emails, texts and PDFs in (issue 14,
// point 1). Null until the contractor sets it or the customer picks one on the
// portal: until then the portal follows the browser's Accept-Language and
// messages the organisation's locale. The languages are src/i18n's LANGUAGES.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table leads add column language text check (language in ('en', 'es'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table leads drop column language');
}
