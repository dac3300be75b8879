// The one place environment variables are read. Everything else imports `config`.
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const optionalUrl = optionalString.pipe(z.url().optional());

const boolFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const DEV_SECRET = 'development-only-secret-do-not-use-in-production-0123456789'; // i18n-exempt: configuration errors for the operator

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_URL: optionalUrl,
    DATABASE_URL: optionalUrl,
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    // Role that tenant transactions switch to; must not be a superuser or have BYPASSRLS.
    DATABASE_APP_ROLE: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case role name') // i18n-exempt: configuration errors for the operator
      .default('porchlight_app'),
    // Production refuses to connect as a superuser or BYPASSRLS role unless this says it is meant.
    DATABASE_ALLOW_BYPASS_ROLE: boolFlag,
    REDIS_URL: optionalUrl,
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only') // i18n-exempt: configuration errors for the operator
      .default('porchlight'),
    APP_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()), // i18n-exempt: configuration errors for the operator
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    TRUST_PROXY: optionalString,
    SMTP_URL: optionalUrl,
    MAIL_FROM: optionalString,
    TWILIO_ACCOUNT_SID: optionalString,
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_MESSAGING_SERVICE_SID: optionalString,
    TWILIO_FROM_NUMBER: optionalString.pipe(
      z
        .string()
        .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +15551234567') // i18n-exempt: configuration errors for the operator
        .optional(),
    ),
    TWILIO_API_URL: optionalUrl,
    STRIPE_SECRET_KEY: optionalString,
    STRIPE_WEBHOOK_SECRET: optionalString,
    STRIPE_CONNECT_WEBHOOK_SECRET: optionalString,
    STRIPE_PRICE_STARTER: optionalString,
    STRIPE_PRICE_PRO: optionalString,
    STRIPE_API_URL: optionalUrl,
    RECONCILE_EVERY_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
    // How often the outbox sweeper runs, and how long an unsent row waits before it re-dispatches it.
    OUTBOX_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    SECURE_COOKIES: boolFlag,
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    const required = ['APP_SECRET', 'PUBLIC_URL', 'DATABASE_URL', 'REDIS_URL'] as const;
    for (const key of required) {
      if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required in production' }); // i18n-exempt: configuration errors for the operator
    }
    if (env.APP_SECRET === DEV_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['APP_SECRET'], message: 'must not be the development default' }); // i18n-exempt: configuration errors for the operator
    }
  });

type Env = z.infer<typeof envSchema>;

export type Config = ReturnType<typeof buildConfig>;

function buildConfig(env: Env) {
  const isProduction = env.NODE_ENV === 'production';
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  return {
    env: env.NODE_ENV,
    isProduction,
    isDevelopment: env.NODE_ENV === 'development',
    port: env.PORT,
    publicUrl,
    databaseUrl: env.DATABASE_URL,
    databasePoolMax: env.DATABASE_POOL_MAX,
    databaseAppRole: env.DATABASE_APP_ROLE,
    databaseAllowBypassRole: env.DATABASE_ALLOW_BYPASS_ROLE,
    redisUrl: env.REDIS_URL,
    queuePrefix: env.QUEUE_PREFIX,
    appSecret: env.APP_SECRET ?? DEV_SECRET,
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    trustProxy: env.TRUST_PROXY,
    secureCookies: isProduction || env.SECURE_COOKIES,
    smtp: { url: env.SMTP_URL, from: env.MAIL_FROM ?? 'Porchlight <no-reply@localhost>' }, // i18n-exempt: configuration errors for the operator
    twilio: {
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID,
      fromNumber: env.TWILIO_FROM_NUMBER,
      apiUrl: env.TWILIO_API_URL,
    },
    stripe: {
      secretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET,
      connectWebhookSecret: env.STRIPE_CONNECT_WEBHOOK_SECRET,
      priceStarter: env.STRIPE_PRICE_STARTER,
      pricePro: env.STRIPE_PRICE_PRO,
      apiUrl: env.STRIPE_API_URL,
      // Development without a key: Pay opens a local test checkout (src/dev/local-stripe.ts). Never in production.
      localTestCheckout: env.NODE_ENV === 'development' && !env.STRIPE_SECRET_KEY,
    },
    reconcileEveryMinutes: env.RECONCILE_EVERY_MINUTES,
    outboxSweepSeconds: env.OUTBOX_SWEEP_SECONDS,
  };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`); // i18n-exempt: configuration errors for the operator
    this.name = 'ConfigError';
  }
}

/** Parses an environment; throws a ConfigError naming every bad variable. */
export function parseConfig(source: NodeJS.ProcessEnv): Config {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`));
  }
  return buildConfig(result.data);
}

function loadOrExit(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Logger is not built yet (it depends on config); stderr is the right place.
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * Parsed once at start. Tests may assign fields (e.g. a stand-in's URL) before
 * building the parts that read them.
 */
export const config: Config = loadOrExit();
