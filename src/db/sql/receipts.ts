// Payment receipts: one outbox row per recorded payment, stored in the caller's
// transaction by queue_payment_receipts() (migrations/20261206000000_receipts_followups.ts).
// A payment seen again (a repeated webhook, reconciliation) queues nothing: the
// receipt row is unique per payment.
import type { Db } from '../tenancy.js';

/** Queues a receipt for each succeeded payment that has none yet; returns the new delivery ids. */
export async function queueReceipts(db: Db, paymentIds: string[]): Promise<string[]> {
  if (paymentIds.length === 0) return [];
  const { rows } = await db.raw<{ rows: { id: string }[] }>('select id from queue_payment_receipts(?::uuid[]) as id', [paymentIds]);
  return rows.map((r) => r.id);
}

/** The payment a receipt delivery is for (null when the delivery is no receipt). */
export async function receiptPaymentId(db: Db, deliveryId: string): Promise<string | null> {
  const row = await db('message_deliveries')
    .where({ id: deliveryId, purpose: 'receipt' })
    .first<{ payment_id: string } | undefined>('payment_id');
  return row?.payment_id ?? null;
}
