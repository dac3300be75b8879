// A Redis server of the test's own, on a free port, that the test can stop and start again
// (empty each time: no RDB, no AOF), as a Redis restarted without its data would be.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, stopChild, waitForLine } from './processes.js';

export class OwnRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        // DEBUG SLEEP lets a test make it hang instead of refusing connections.
        '--enable-debug-command',
        'local',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    await waitForLine(child, /Ready to accept connections/, 10_000);
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    this.child = undefined;
  }

  /** Number of keys in the running server. */
  async keyCount(): Promise<number> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    try {
      return await client.dbsize();
    } finally {
      client.disconnect();
    }
  }
}
