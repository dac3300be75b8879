// The web and worker processes refuse to start when tenant work would bypass RLS.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';

function startWith(entry: string, env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'fatal', DATABASE_URL: process.env.DATABASE_URL, PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('start-up RLS check', function () {
  this.timeout(60_000);

  for (const entry of ['src/server.ts', 'workers/index.ts']) {
    it(`${entry} refuses to start when tenant queries would run as a superuser`, () => {
      const result = startWith(entry, { DATABASE_APP_ROLE: 'postgres' });
      expect(result.status).to.equal(1);
      expect(result.stdout + result.stderr).to.contain('bypasses row-level security');
    });
  }
});
