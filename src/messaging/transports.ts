// The providers behind the two channels: Twilio for SMS, SMTP (pooled) for
// email, and a development outbox that prints to the console when neither has
// credentials. Built lazily from config so tests can point them at stand-ins.
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import twilio from 'twilio';
import nodemailer, { type Transporter } from 'nodemailer';
import type SdkRequestClient from 'twilio/lib/base/RequestClient.js';
import type SdkResponseModule from 'twilio/lib/http/response.js';
import { config } from '../config.js';
import { logger } from '../logger.js';
import type { Channel } from './schema.js';

type SdkResponse<T> = SdkResponseModule.default<T>;

export interface SmsMessage {
  to: string;
  body: string;
  statusCallback?: string;
}

export interface EmailMessage {
  to: string;
  fromName: string;
  replyTo?: string | null;
  subject: string;
  text: string;
  html: string;
}

export interface SmsSender {
  kind: 'twilio' | 'dev';
  send(message: SmsMessage): Promise<{ providerId: string }>;
}

export interface EmailSender {
  kind: 'smtp' | 'dev';
  send(message: EmailMessage): Promise<{ providerId: string }>;
  close(): void;
}

/** Which env vars a channel needs; null when it is configured. */
export function missingSettings(channel: Channel): string[] {
  if (channel === 'sms') {
    const t = config.twilio;
    const missing: string[] = [];
    if (!t.accountSid) missing.push('TWILIO_ACCOUNT_SID');
    if (!t.authToken) missing.push('TWILIO_AUTH_TOKEN');
    if (!t.messagingServiceSid && !t.fromNumber) missing.push('TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER');
    return missing;
  }
  return config.smtp.url ? [] : ['SMTP_URL', 'MAIL_FROM'];
}

/**
 * How a channel sends right now: the real provider, the development outbox,
 * or nothing (production without credentials: the send button explains).
 */
export function channelMode(channel: Channel): 'provider' | 'dev' | 'unavailable' {
  if (missingSettings(channel).length === 0) return 'provider';
  return config.isProduction ? 'unavailable' : 'dev';
}


/** The SDK's form encoding (qs, arrayFormat "repeat"): a list becomes repeated keys. */
function formBody(data: object): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) form.append(key, item === null ? '' : String(item));
  }
  return form.toString();
}

/**
 * The twilio SDK's HTTP layer, on node:http(s) instead of axios.
 *
 * The SDK's own RequestClient goes through axios, which cost 1.0–2.0 ms of CPU
 * per message (43% of a profile of 2,000 sends; a plain node:http request to the
 * same stand-in: 0.34–0.53 ms), and the send worker is CPU-bound under load.
 * The SDK still builds every request and reads every response (errors become
 * RestException with status and code as before); this only moves the bytes.
 * It keeps the SDK's https agent, which carries HTTP_PROXY and TWILIO_CA_BUNDLE.
 * Redirects (never used by the Messages API) go through the SDK's client.
 *
 * Twilio has no base-URL option either: with TWILIO_API_URL (local stand-ins)
 * every API address is rewritten to it.
 */
export class TwilioHttpClient extends twilio.RequestClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, timeout: 15_000 });

  constructor(private readonly base?: URL) {
    super({ keepAlive: true, timeout: 15_000 });
  }

  override request<TData>(opts: SdkRequestClient.RequestOptions<TData>): Promise<SdkResponse<TData>> {
    const target = new URL(opts.uri);
    if (this.base) {
      target.protocol = this.base.protocol;
      target.host = this.base.host;
      target.pathname = `${this.base.pathname.replace(/\/+$/, '')}${target.pathname}`;
    }
    if (opts.allowRedirects) return super.request<TData>({ ...opts, uri: target.href });
    return this.send<TData>(opts, target);
  }

  private async send<TData>(opts: SdkRequestClient.RequestOptions<TData>, target: URL): Promise<SdkResponse<TData>> {
    if (opts.params) for (const [key, value] of new URLSearchParams(formBody(opts.params))) target.searchParams.append(key, value);
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined), Connection: 'keep-alive' };
    if (opts.username && opts.password) headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
    let body: string | undefined;
    if (opts.data && headers['Content-Type'] === 'application/x-www-form-urlencoded') body = formBody(opts.data as object);
    else if (opts.data && headers['Content-Type'] === 'application/json') body = JSON.stringify(opts.data);
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    const timeout = opts.timeout || this.defaultTimeout;
    const secure = target.protocol === 'https:';
    return new Promise<SdkResponse<TData>>((resolve, reject) => {
      const req = (secure ? https : http).request(
        target,
        { method: opts.method.toUpperCase(), headers, agent: secure ? (this.axios.defaults.httpsAgent as https.Agent) : this.httpAgent, timeout },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          // The SDK parses the body (a string) itself: JSON for results, RestException for errors.
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ statusCode: res.statusCode ?? 0, body: text as TData, headers: res.headers } as SdkResponse<TData>);
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`timeout of ${timeout}ms exceeded`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function printToConsole(lines: string[]): void {
  // Development only: the point is that a person sees the message.
  process.stdout.write(`\n──── outgoing message (development outbox, not sent) ────\n${lines.join('\n')}\n────────────────────────────────────────────────────────\n`);
}

const devSms: SmsSender = {
  kind: 'dev',
  async send(message) {
    printToConsole([`To: ${message.to} (SMS)`, '', message.body]);
    return { providerId: `dev-${crypto.randomUUID()}` };
  },
};

const devEmail: EmailSender = {
  kind: 'dev',
  async send(message) {
    printToConsole([`To: ${message.to} (email from ${message.fromName})`, `Subject: ${message.subject}`, '', message.text]);
    return { providerId: `dev-${crypto.randomUUID()}` };
  },
  close() {},
};

let sms: SmsSender | undefined;
let email: EmailSender | undefined;

export function getSmsSender(): SmsSender {
  if (sms) return sms;
  if (channelMode('sms') !== 'provider') {
    sms = devSms;
    return sms;
  }
  const t = config.twilio;
  const client = twilio(t.accountSid, t.authToken, {
    accountSid: t.accountSid,
    autoRetry: false, // our queue owns retries and their backoff
    httpClient: new TwilioHttpClient(t.apiUrl ? new URL(t.apiUrl) : undefined),
  });
  const sender = t.messagingServiceSid ? { messagingServiceSid: t.messagingServiceSid } : { from: t.fromNumber! };
  sms = {
    kind: 'twilio',
    async send(message) {
      const created = await client.messages.create({
        to: message.to,
        body: message.body,
        ...sender,
        ...(message.statusCallback ? { statusCallback: message.statusCallback } : {}),
      });
      return { providerId: created.sid };
    },
  };
  return sms;
}

function mailFromAddress(): string {
  const from = config.smtp.from;
  const match = /<([^>]+)>/.exec(from);
  return (match ? match[1] : from).trim();
}

/** SMTP connections in the pool unless SMTP_URL says ?pool=N. */
export const DEFAULT_SMTP_CONNECTIONS = 10;

export function getEmailSender(): EmailSender {
  if (email) return email;
  if (channelMode('email') !== 'provider') {
    email = devEmail;
    return email;
  }
  const url = new URL(config.smtp.url!);
  const secure = url.protocol === 'smtps:' || url.port === '465';
  const transport: Transporter = nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (secure ? 465 : 587)),
    secure,
    // Local stand-ins (and `smtp://…?tls=off`) speak plain SMTP; everything else must upgrade.
    ...(url.searchParams.get('tls') === 'off' ? { ignoreTLS: true } : { requireTLS: !secure }),
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: true,
    // Bounded, so a row can only stay 'sending' this long while a worker is alive (see deliver.ts).
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    // Each email waits for a free connection and the worker runs 50 jobs at
    // once. nodemailer's default of 5 queues them: 25 concurrent sends to a local
    // smtp-server managed ~1,150/s with 5 connections, ~1,650/s with 10, ~1,700/s
    // with 20. 10 is near that knee and within what SMTP providers accept;
    // ?pool=N in SMTP_URL sets another size.
    maxConnections: Number(url.searchParams.get('pool') ?? DEFAULT_SMTP_CONNECTIONS),
    maxMessages: 100,
  });
  const address = mailFromAddress();
  email = {
    kind: 'smtp',
    async send(message) {
      const info = await transport.sendMail({
        from: { name: message.fromName, address },
        to: message.to,
        ...(message.replyTo ? { replyTo: message.replyTo } : {}),
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      return { providerId: String(info.messageId) };
    },
    close() {
      transport.close();
    },
  };
  return email;
}

/** Closes the SMTP pool and forgets both senders (shutdown, or tests changing config). */
export function closeTransports(): void {
  email?.close();
  email = undefined;
  sms = undefined;
  logger.debug('message transports closed');
}

export function statusCallbackUrl(): string {
  return `${config.publicUrl}/webhooks/twilio/status`;
}
