// A redis-server of the test's own, on a port of its own, that the test can
// stop and start again. It keeps nothing on disk (--save "" --appendonly no),
// so a restart comes back empty, like a Redis without AOF/RDB.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './processes.js';

export interface OwnRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Number of keys in the running server. */
  keyCount(): Promise<number>;
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const own: OwnRedis = {
    port,
    url,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      const until = Date.now() + 10_000;
      while (!(await ping(url))) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
    async keyCount() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        return await client.dbsize();
      } finally {
        client.disconnect();
      }
    },
  };
  await own.start();
  return own;
}
