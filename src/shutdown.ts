// Ordered shutdown (stop accepting, finish work, close pools) with a force-quit timer.
import { logger } from './logger.js';

interface Step {
  name: string;
  order: number;
  run: () => Promise<unknown>;
}

const steps: Step[] = [];
let shuttingDown = false;

/** Registers a step; lower order runs first (stop intake before closing pools). */
export function onShutdown(name: string, run: () => Promise<unknown>, order: number): void {
  steps.push({ name, run, order });
}

async function shutdown(reason: string, forceAfterMs = 25_000): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ reason }, 'shutting down');
  const force = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, forceAfterMs);
  force.unref();
  for (const step of [...steps].sort((a, b) => a.order - b.order)) {
    try {
      await step.run();
    } catch (err) {
      logger.error({ err, step: step.name }, 'shutdown step failed');
    }
  }
  clearTimeout(force);
  logger.info('shutdown complete');
}

export function installShutdownHandlers(): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void shutdown(signal).then(() => process.exit(0));
    });
  }
}
