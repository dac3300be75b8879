// The worker process: every BullMQ worker and job scheduler, stopped cleanly on SIGTERM.
import { config } from '../src/config.js';
import { logger } from '../src/logger.js';
import { closeDb } from '../src/db/knex.js';
import { assertRlsEnforced } from '../src/db/tenancy.js';
import { installShutdownHandlers, onShutdown } from '../src/shutdown.js';
import { startSendMessageWorker } from './send-message.js';
import { startOutboxSweeper } from './sweep-outbox.js';
import { startReconcileWorker } from './reconcile-stripe.js';
import { startPortalRecoveryWorker } from './portal-recovery.js';
import { startVisitsRetention } from './portal-visits-retention.js';
import { startFollowupsWorker } from './followups.js';
import { startAutopayWorker } from './autopay.js';
import type { RunningWorker } from '../src/queue/worker.js';
import { setAttachmentSource } from '../src/messaging/deliver.js';
import { receiptAttachments } from '../src/documents/receipt-attachment.js';

/** Each job kind adds its starter here. */
const starters: Array<() => Promise<RunningWorker>> = [
  startSendMessageWorker,
  () => startOutboxSweeper(),
  startReconcileWorker,
  startPortalRecoveryWorker,
  () => startVisitsRetention(),
  () => startFollowupsWorker(),
  () => startAutopayWorker(),
];

async function main(): Promise<void> {
  await assertRlsEnforced();
  if (!config.redisUrl) {
    logger.warn('REDIS_URL is not set: background jobs run inside the web process (development only). Nothing to do here.');
    await closeDb();
    return;
  }
  setAttachmentSource(receiptAttachments); // receipt emails carry their PDF
  const running: RunningWorker[] = [];
  for (const start of starters) running.push(await start());
  logger.info({ workers: running.map((w) => w.name) }, 'workers started');
  // worker.close() has no timeout of its own; shutdown() force-quits after its bound.
  onShutdown('workers', () => Promise.all(running.map((w) => w.close())), 10);
  onShutdown('postgres', closeDb, 40);
  installShutdownHandlers();
}

main().catch((err: unknown) => {
  logger.fatal({ err }, `worker process refused to start: ${(err as Error).message}`);
  process.exit(1);
});
