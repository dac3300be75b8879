// A receipt the send worker had already claimed when its payment was marked as not
// received (20270104000000_payments_not_received.ts) is out of markNotReceived()'s
// reach; if that send then fails for a passing reason, it goes back in the queue and
// the retry would thank the customer for money that never came. The claim now ends
// such a receipt first ('failed', with why), so it comes back unclaimed like any
// row that is no longer pending.
import type { Knex } from 'knex';
import { redefineFunction, replaceOnce } from '../src/db/redefine-function.js';

const SIGNATURE = 'claim_message_deliveries(uuid, uuid[])';
const WHAT = 'claim_message_deliveries(), receipts of payments not received';
const BEFORE = `      perform set_config('app.org_id', p_org::text, true);
`;
const AFTER = `      perform set_config('app.org_id', p_org::text, true);
      -- [not received] A receipt whose payment was marked as not received never goes out.
      update message_deliveries d set status = 'failed', last_error = 'messages:deliver.paymentNotReceived', updated_at = now()
       where d.id = any(p_ids) and d.status in ('pending', 'queued') and d.payment_id is not null
         and exists (select 1 from payments y where y.id = d.payment_id and y.status = 'failed');
`;

export async function up(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(BEFORE, AFTER, WHAT));
}

export async function down(knex: Knex): Promise<void> {
  await redefineFunction(knex, SIGNATURE, replaceOnce(AFTER, BEFORE, WHAT));
}
