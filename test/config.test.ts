import { expect } from 'chai';
import { ConfigError, parseConfig } from '../src/config.js';

const productionEnv = {
  NODE_ENV: 'production',
  APP_SECRET: 'a'.repeat(40),
  PUBLIC_URL: 'https://app.example.com',
  DATABASE_URL: 'postgres://app@db.example.com/porchlight',
  REDIS_URL: 'redis://cache.example.com:6379',
};

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('configuration', () => {
  it('starts in development with nothing set', () => {
    const config = parseConfig({});
    expect(config.env).to.equal('development');
    expect(config.port).to.equal(3000);
    expect(config.publicUrl).to.equal('http://localhost:3000');
  });

  it('accepts a complete production environment', () => {
    const config = parseConfig(productionEnv);
    expect(config.isProduction).to.equal(true);
    expect(config.secureCookies).to.equal(true);
  });

  for (const name of ['APP_SECRET', 'PUBLIC_URL', 'DATABASE_URL', 'REDIS_URL'] as const) {
    it(`refuses to start in production without ${name}, naming it`, () => {
      const env: NodeJS.ProcessEnv = { ...productionEnv };
      delete env[name];
      expect(problems(env).join('\n')).to.contain(`${name} is required in production`);
    });
  }

  it('names each malformed variable', () => {
    const found = problems({ PORT: 'eighty', APP_SECRET: 'short', PUBLIC_URL: 'not a url', TWILIO_FROM_NUMBER: '555-1234' });
    const text = found.join('\n');
    expect(text).to.contain('PORT');
    expect(text).to.contain('APP_SECRET must be at least 32 characters');
    expect(text).to.contain('PUBLIC_URL');
    expect(text).to.contain('TWILIO_FROM_NUMBER');
  });

  it('exits with a message naming the variable when the process starts badly configured', async () => {
    const { spawnSync } = await import('node:child_process');
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', "await import('./src/config.ts')"], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        PUBLIC_URL: 'https://x.example.com',
        DATABASE_URL: 'postgres://x@y/z',
        REDIS_URL: 'redis://r:6379',
      },
      encoding: 'utf8',
    });
    expect(result.status).to.equal(78);
    expect(result.stderr).to.contain('APP_SECRET is required in production');
  });
});
