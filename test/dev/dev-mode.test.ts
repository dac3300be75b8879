// `npm run dev` on a machine with nothing configured: embedded Postgres, demo login.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { csrfFrom } from '../support/http.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<{ match: RegExpMatchArray; output: string }> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`timed out; output so far:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ match, output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dev exited with ${code}:\n${output}`));
    });
  });
}

describe('npm run dev with nothing configured', function () {
  this.timeout(180_000);
  let child: ChildProcess | undefined;
  let dataDir: string;

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('starts an embedded Postgres and prints a URL whose login page accepts the printed demo login', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'porchlight-dev-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      PORT: String(port),
      DEV_DATA_DIR: dataDir,
      DEV_PG_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const { match, output } = await waitForLine(child, /Log in with (\S+) \/ (\S+)/, 150_000);
    const url = /running at (http\S+)/.exec(output)?.[1];
    expect(url).to.equal(`http://localhost:${port}`);
    const [, email, password] = match;

    const loginPage = await fetch(`${url}/login`);
    const cookie = loginPage.headers.get('set-cookie')?.split(';')[0] ?? '';
    const token = csrfFrom(await loginPage.text());
    const login = await fetch(`${url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ email, password, _csrf: token }),
    });
    expect(login.status).to.equal(303);
    const sessionCookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
    const home = await fetch(`${url}/`, { headers: { cookie: sessionCookie }, redirect: 'manual' });
    expect(home.status).to.equal(200);
    expect(await home.text()).to.contain('Lone Star Gutters');
  });
});
