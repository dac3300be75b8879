// The web process: checks RLS can't be bypassed, listens, shuts down in order.
import { config } from './config.js';
import { logger } from './logger.js';
import { createApp } from './app.js';
import { startLocalStripe, stopLocalStripe } from './dev/local-stripe.js';
import { closeDb } from './db/knex.js';
import { assertRlsEnforced } from './db/tenancy.js';
import { closeStoreRedis } from './queue/redis.js';
import { checkoutExpiriesSettled } from './payments/stripe/sessions.js';
import { onShutdown, installShutdownHandlers } from './shutdown.js';

async function main(): Promise<void> {
  await assertRlsEnforced();
  if (config.stripe.localTestCheckout) onShutdown('local test checkout', await startLocalStripe().then(() => stopLocalStripe), 12);
  const { app, close } = createApp();
  const server = app.listen(config.port, () => {
    logger.info({ port: config.port, url: config.publicUrl }, `Porchlight web listening on ${config.publicUrl}`);
  });
  server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts
  onShutdown('http server', () => new Promise<void>((resolve) => server.close(() => resolve())), 10);
  // Checkout Sessions being expired at Stripe after a void or a newer Pay.
  onShutdown('stripe session expiries', checkoutExpiriesSettled, 15);
  onShutdown('session store', close, 20);
  onShutdown('redis', closeStoreRedis, 30);
  onShutdown('postgres', closeDb, 40);
  installShutdownHandlers();
}

main().catch((err: unknown) => {
  logger.fatal({ err }, `web process refused to start: ${(err as Error).message}`);
  process.exit(1);
});
