// The web process: checks RLS can't be bypassed, listens, shuts down in order.
import { config } from './config.js';
import { logger } from './logger.js';
import { createApp } from './app.js';
import { createWebServer, listen } from './http/listen.js';
import { startLocalStripe, stopLocalStripe } from './dev/local-stripe.js';
import { closeDb } from './db/knex.js';
import { assertRlsEnforced } from './db/tenancy.js';
import { closeStoreRedis } from './queue/redis.js';
import { checkoutExpiriesSettled } from './payments/stripe/sessions.js';
import { scheduleInProcessReconciliation } from './payments/stripe/reconcile.js';
import { onShutdown, installShutdownHandlers } from './shutdown.js';
import { runFollowupScheduler } from './messaging/followups.js';
import { runAutopayScheduler } from './messaging/autopay.js';
import { sweepOutbox } from './messaging/outbox.js';

async function main(): Promise<void> {
  await assertRlsEnforced();
  if (config.stripe.localTestCheckout) onShutdown('local test checkout', await startLocalStripe().then(() => stopLocalStripe), 12); // i18n-exempt: names of shutdown steps in the log
  const { app, close } = createApp();
  const server = createWebServer(app);
  await listen(server, config.port);
  logger.info({ port: config.port, url: config.publicUrl }, `Porchlight web listening on ${config.publicUrl}`);
  // A socket error after start-up (rare) leaves no way to serve: stop so the supervisor restarts us.
  server.on('error', (err) => {
    logger.fatal({ err }, `web server socket failed: ${err.message}`);
    process.exit(1);
  });
  server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts
  if (!config.redisUrl && config.stripe.secretKey) {
    // Jobs run in this process without Redis: reconciliation too, or payments whose webhooks were lost stay lost.
    const reconciliation = scheduleInProcessReconciliation(config.reconcileEveryMinutes * 60_000);
    logger.info({ everyMinutes: config.reconcileEveryMinutes }, 'Stripe reconciliation runs in this process (no REDIS_URL)');
    onShutdown('in-process reconciliation', reconciliation.stop, 12); // i18n-exempt: names of shutdown steps in the log
  }
  if (!config.redisUrl) {
    // Without Redis there is no worker: follow-ups, and receipts queued by payment webhooks, go out from here
    // (the same timer helper as reconciliation; every minute).
    const followups = scheduleInProcessReconciliation(60_000, { run: () => runFollowupScheduler().then(() => sweepOutbox()) });
    onShutdown('in-process follow-ups', followups.stop, 12); // i18n-exempt: names of shutdown steps in the log
    if (config.stripe.secretKey) {
      const autopay = scheduleInProcessReconciliation(10 * 60_000, { run: () => runAutopayScheduler().then(() => undefined) });
      onShutdown('in-process autopay', autopay.stop, 12); // i18n-exempt: names of shutdown steps in the log
    }
  }
  onShutdown('http server', () => new Promise<void>((resolve) => server.close(() => resolve())), 10); // i18n-exempt: names of shutdown steps in the log
  // Checkout Sessions being expired at Stripe after a void or a newer Pay.
  onShutdown('stripe session expiries', checkoutExpiriesSettled, 15); // i18n-exempt: names of shutdown steps in the log
  onShutdown('session store', close, 20); // i18n-exempt: names of shutdown steps in the log
  onShutdown('redis', closeStoreRedis, 30);
  onShutdown('postgres', closeDb, 40);
  installShutdownHandlers();
}

main().catch((err: unknown) => {
  logger.fatal({ err }, `web process refused to start: ${(err as Error).message}`);
  process.exit(1);
});
