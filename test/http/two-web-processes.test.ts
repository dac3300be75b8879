// Two real web processes (src/server.ts) on one Redis: a client's failed portal
// lookups count once across both, so running more replicas doesn't multiply
// what a guesser may try (20 per 10 minutes, the product's number).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { processEnv } from '../support/process-env.js';
import { freePort, stopChild, waitForLine } from '../support/processes.js';

const MISS_LIMIT = 20;

describe('two web processes on one Redis', function () {
  this.timeout(120_000);
  const children: ChildProcess[] = [];
  const bases: string[] = [];

  before(async () => {
    // Their own key prefix: this test's counters start at zero and touch no one else's.
    const prefix = `${process.env.QUEUE_PREFIX}-web2-${Date.now()}`;
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: processEnv({}, { QUEUE_PREFIX: prefix, PORT: String(port) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      await waitForLine(child, /web listening/, 60_000);
      bases.push(`http://127.0.0.1:${port}`);
    }
  });

  after(async () => {
    for (const child of children) await stopChild(child);
  });

  it('share the failed-lookup limit: 20 misses spread over both, then both answer 429', async () => {
    const pids = new Set(children.map((c) => c.pid));
    expect(pids.size).to.equal(2);
    for (let i = 0; i < MISS_LIMIT; i += 1) {
      const res = await fetch(`${bases[i % 2]}/p/${'D'.repeat(42)}${i % 10}`);
      expect(res.status, `miss ${i + 1} at process ${i % 2}`).to.equal(404);
      await res.arrayBuffer();
    }
    for (const base of bases) {
      const res = await fetch(`${base}/p/${'E'.repeat(43)}`);
      expect(res.status, base).to.equal(429);
      await res.arrayBuffer();
    }
  });
});
