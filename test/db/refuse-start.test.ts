// The web and worker processes refuse to start when tenant work would bypass RLS,
// and in production when they connect as a role that bypasses it.
import { expect } from 'chai';
import crypto from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createOrganization } from '../../src/auth/commands.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { config } from '../../src/config.js';
import { createKnex, getDb } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { SESSIONS_ROLE } from '../../src/db/rls.js';
import { withOrg } from '../../src/db/tenancy.js';
import { uniqueEmail } from '../support/factories.js';
import { csrfFrom } from '../support/http.js';
import { freePort, stopChild, waitForLine } from '../support/processes.js';

const ENTRIES = ['src/server.ts', 'workers/index.ts'];

function startWith(entry: string, env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'fatal', DATABASE_URL: process.env.DATABASE_URL, PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

/** What production requires, with the connection given. */
function productionEnv(databaseUrl: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL,
    QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}-roles`,
    APP_SECRET: crypto.randomBytes(24).toString('hex'),
    PUBLIC_URL: 'https://porchlight.example.test',
    PORT: '0',
    ...extra,
  };
}

function launch(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The test cluster's URL for another role and database (the cluster trusts local connections). */
function urlAs(role: string, database: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.username = role;
  url.password = '';
  url.pathname = `/${database}`;
  return url.toString();
}

const PASSWORD = 'plain-role-test-password-42';

describe('start-up RLS check', function () {
  this.timeout(90_000);

  for (const entry of ENTRIES) {
    it(`${entry} refuses to start when tenant queries would run as a superuser`, () => {
      const result = startWith(entry, { DATABASE_APP_ROLE: 'postgres' });
      expect(result.status).to.equal(1);
      expect(result.stdout + result.stderr).to.contain('bypasses row-level security');
    });

    it(`${entry} refuses to start in production when it connects as a superuser, naming the override`, () => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', entry], {
        env: productionEnv(process.env.DATABASE_URL!),
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).to.equal(1);
      const output = result.stdout + result.stderr;
      expect(output).to.contain('connected as \\"postgres\\", a superuser that bypasses row-level security');
      expect(output).to.contain('DATABASE_ALLOW_BYPASS_ROLE=true');
    });
  }

  describe('in production', () => {
    let child: ChildProcess | undefined;
    afterEach(async () => {
      await stopChild(child);
      child = undefined;
    });

    it('the web process starts as a superuser when DATABASE_ALLOW_BYPASS_ROLE=true, and warns', async () => {
      child = launch('src/server.ts', productionEnv(process.env.DATABASE_URL!, { DATABASE_ALLOW_BYPASS_ROLE: 'true' }));
      const { output } = await waitForLine(child, /web listening/, 30_000);
      expect(output).to.contain('allowed by DATABASE_ALLOW_BYPASS_ROLE');
    });

    describe('with the README’s database roles', () => {
      const owner = `porchlight_test_owner_${process.pid}`;
      const web = `porchlight_test_web_${process.pid}`;
      const database = `porchlight_test_roles_${process.pid}`;
      const superuser = getDb();
      let org: { email: string; password: string };

      before(async function () {
        this.timeout(120_000);
        // As a superuser, once.
        await superuser.raw(`create role ${owner} login createrole`);
        await superuser.raw(`create database ${database} owner ${owner}`);
        await superuser.raw(`grant set on parameter app.org_id to ${owner}`);
        // The release phase, as the owner; then the owner creates the processes' login role.
        await migrateLatest(urlAs(owner, database));
        const asOwner = createKnex(urlAs(owner, database), 1);
        try {
          await asOwner.raw(`create role ${web} login password null nosuperuser nobypassrls inherit`);
          await asOwner.raw(`grant ${config.databaseAppRole}, ${SESSIONS_ROLE} to ${web}`);
          const email = uniqueEmail('owner');
          const { orgId } = await createOrganization(
            { name: 'Plain Role Gutters', owner: { name: 'Pat', email, passwordHash: await hashPassword(PASSWORD) } },
            asOwner,
          );
          await withOrg(orgId, (db) => db('leads').insert({ org_id: orgId, first_name: 'Plainrole', last_name: 'Customer' }), asOwner);
          org = { email, password: PASSWORD };
        } finally {
          await asOwner.destroy();
        }
      });

      after(async () => {
        await superuser.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ?', [database]);
        await superuser.raw(`drop database if exists ${database}`);
        await superuser.raw(`drop role if exists ${web}`);
        await superuser.raw(`revoke set on parameter app.org_id from ${owner}`);
        await superuser.raw(`drop role if exists ${owner}`);
      });

      it('web serves log-in and a dashboard page as the plain login role, which neither owns nor bypasses', async () => {
        const port = await freePort();
        child = launch('src/server.ts', productionEnv(urlAs(web, database), { PORT: String(port), TRUST_PROXY: 'true' }));
        const { output } = await waitForLine(child, /web listening/, 30_000);
        expect(output).not.to.contain('DATABASE_ALLOW_BYPASS_ROLE');
        // Behind a TLS-terminating proxy, as deployed: production cookies are Secure.
        const base = `http://127.0.0.1:${port}`;
        const headers = { 'X-Forwarded-Proto': 'https' };
        const cookieOf = (res: Response) => /porchlight\.sid=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
        const page = await fetch(`${base}/login`, { headers });
        const login = await fetch(`${base}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { ...headers, Cookie: cookieOf(page), 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email: org.email, password: org.password, _csrf: csrfFrom(await page.text()) }),
        });
        expect(login.status).to.equal(303);
        const customers = await fetch(`${base}/customers`, { headers: { ...headers, Cookie: cookieOf(login) } });
        expect(customers.status).to.equal(200);
        expect(await customers.text()).to.contain('Plainrole');
      });

      it('the worker starts as the plain login role', async () => {
        child = launch('workers/index.ts', productionEnv(urlAs(web, database)));
        const { output } = await waitForLine(child, /workers started/, 30_000);
        expect(output).not.to.contain('DATABASE_ALLOW_BYPASS_ROLE');
      });
    });
  });
});
