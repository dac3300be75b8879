// Everything the app logs while fn runs, at info level, as one string.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { logger } from '../../src/logger.js';

export async function captureLogs(
  fn: () => Promise<void>,
  /** Called with each line as it is logged (a positive signal to wait for). */
  onLine?: (line: string) => void,
): Promise<{ text: string; lines: number }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      onLine?.(chunk.toString());
      done();
    },
  });
  const streamSym = pino.symbols.streamSym as unknown as symbol;
  const loggerRecord = logger as unknown as Record<symbol, unknown>;
  const originalStream = loggerRecord[streamSym];
  const originalLevel = logger.level;
  loggerRecord[streamSym] = sink;
  logger.level = 'info';
  try {
    await fn();
  } finally {
    loggerRecord[streamSym] = originalStream;
    logger.level = originalLevel;
  }
  return { text: lines.join(''), lines: lines.length };
}
