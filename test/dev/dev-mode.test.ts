// `npm run dev` on a machine with nothing configured: embedded Postgres, demo login.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { csrfFrom } from '../support/http.js';
import { freePort, waitForLine } from '../support/processes.js';

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
