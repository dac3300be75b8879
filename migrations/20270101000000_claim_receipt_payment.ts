// The send worker's claim also says which payment a receipt is for (the row's
// payment_id, set exactly when its purpose is 'receipt'). The worker used to ask
// for a receipt's PDF on every email it sent: a transaction of its own (four round
// trips) per email, receipt or not, to find out that most weren't. With the
// payment on the claimed row, only receipts look their document up, and straight
// by the payment (README: Benchmarks, bench/sending.ts).
// Adding a column changes the function's result type, so it is dropped and created
// again, its body VERBATIM from 20261212010000_claim_link_expiry.ts plus the
// `payment_id` column; owner and grants as there. Runs in one transaction.
import type { Knex } from 'knex';
import { config } from '../src/config.js';

const SIGNATURE = 'claim_message_deliveries(uuid, uuid[])';

const HEADER = `language plpgsql volatile security definer
    set search_path = pg_catalog, public, pg_temp
    set app.org_id = ''`;

const claim = (withPayment: boolean) => `
    create function claim_message_deliveries(p_org uuid, p_ids uuid[])
    returns table (id uuid, claimed boolean, status text, lead_id uuid, portal_link_id uuid, channel text, to_address text,
                   subject text, body_text text, body_html text, token_ciphertext text, link_revoked_at timestamptz,
                   org_name text, org_email text, link_expired boolean${withPayment ? ', payment_id uuid' : ''})
    ${HEADER}
    as $$
    #variable_conflict use_column
    declare
      v_claimed uuid[];
    begin
      perform set_config('app.org_id', p_org::text, true);
      with c as (
        update message_deliveries d set status = 'sending', attempts = d.attempts + 1, updated_at = now()
         where d.id = any(p_ids) and d.status in ('pending', 'queued')
        returning d.id
      )
      select coalesce(array_agg(c.id), '{}') into v_claimed from c;
      return query
        select d.id, true, d.status, d.lead_id, d.portal_link_id, d.channel, d.to_address, d.subject, d.body_text, d.body_html,
               l.token_ciphertext, l.revoked_at, o.name, o.email, coalesce(l.expires_at <= now(), false)${withPayment ? ', d.payment_id' : ''}
          from message_deliveries d
          left join portal_links l on l.id = d.portal_link_id
          left join organizations o on o.id = p_org
         where d.id = any(v_claimed);
      return query
        select d.id, false, d.status, null::uuid, null::uuid, null::text, null::text, null::text, null::text, null::text,
               null::text, null::timestamptz, null::text, null::text, null::boolean${withPayment ? ', null::uuid' : ''}
          from message_deliveries d
         where d.id = any(p_ids) and not (d.id = any(v_claimed));
    end
    $$`;

async function define(knex: Knex, withPayment: boolean): Promise<void> {
  await knex.raw(`drop function if exists ${SIGNATURE}`);
  await knex.raw(claim(withPayment));
  await knex.raw(`alter function ${SIGNATURE} owner to ??`, [config.databaseAppRole]);
  await knex.raw(`revoke execute on function ${SIGNATURE} from public`);
  await knex.raw(`grant execute on function ${SIGNATURE} to ??`, [config.databaseAppRole]);
}

export async function up(knex: Knex): Promise<void> {
  await define(knex, true);
}

export async function down(knex: Knex): Promise<void> {
  await define(knex, false);
}
