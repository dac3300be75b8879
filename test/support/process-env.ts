// The environment for a web or worker child process in a test: this run's
// database, a given Redis, this run's secrets, and the stand-ins to send through.
import { config } from '../../src/config.js';
import type { TestSmtp } from './smtp.js';
import type { TwilioStandin } from './twilio-standin.js';

export interface ProcessTargets {
  /** Default: this run's Redis. */
  redisUrl?: string;
  databaseUrl?: string;
  twilio?: Pick<TwilioStandin, 'accountSid' | 'authToken' | 'url'>;
  smtp?: Pick<TestSmtp, 'url'>;
}

export function processEnv(targets: ProcessTargets = {}, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { twilio, smtp } = targets;
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: '0',
    DATABASE_URL: targets.databaseUrl ?? process.env.DATABASE_URL,
    REDIS_URL: targets.redisUrl ?? config.redisUrl,
    QUEUE_PREFIX: config.queuePrefix,
    APP_SECRET: config.appSecret, // the child decrypts portal links this process made
    PUBLIC_URL: config.publicUrl,
    ...(twilio && {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_MESSAGING_SERVICE_SID: 'MG00000000000000000000000000000000',
      TWILIO_API_URL: twilio.url,
    }),
    ...(smtp && { SMTP_URL: smtp.url, MAIL_FROM: 'Porchlight <no-reply@porchlight.test>' }),
    ...extra,
  };
}
