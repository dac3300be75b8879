// The web process exits non-zero with a clear message when it can't listen,
// instead of logging "listening" and running without a socket.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { listen } from '../../src/http/listen.js';
import { processEnv } from '../support/process-env.js';
import { freePort, stopChild, waitForLine } from '../support/processes.js';

function startWeb(port: number) {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: processEnv({}, { QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}-listen`, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exitOf(child: ReturnType<typeof startWeb>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('web process listen errors', function () {
  this.timeout(60_000);

  it('exits non-zero naming the port when another web process already holds it (EADDRINUSE)', async () => {
    const port = await freePort();
    const first = startWeb(port);
    try {
      await waitForLine(first, /Porchlight web listening/, 40_000);
      const { code, output } = await exitOf(startWeb(port), 40_000);
      expect(code).to.equal(1);
      expect(output).to.contain(`port ${port} is already in use`);
      expect(output).not.to.contain('Porchlight web listening');
      // The first process keeps serving.
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).to.equal(200);
    } finally {
      await stopChild(first);
    }
  });

  it('rejects with the reason for any other listen error (no permission, anything else)', async () => {
    for (const [code, expected] of [
      ['EACCES', 'no permission to listen on port 80'],
      ['EADDRNOTAVAIL', 'could not listen on port 80: address not available'],
    ]) {
      const server = http.createServer();
      // The kernel's answer, without needing a privileged port or a missing interface on this machine.
      server.listen = function (this: http.Server) {
        process.nextTick(() => this.emit('error', Object.assign(new Error('address not available'), { code })));
        return this;
      } as typeof server.listen;
      const err = await listen(server, 80).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).to.contain(expected);
    }
  });
});
