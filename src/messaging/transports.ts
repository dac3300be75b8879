// The providers behind the two channels: Twilio for SMS, SMTP (pooled) for
// email, and a development outbox that prints to the console when neither has
// credentials. Built lazily from config so tests can point them at stand-ins.
import crypto from 'node:crypto';
import http from 'node:http';
import twilio from 'twilio';
import { config } from '../config.js';
import { logger } from '../logger.js';
import { createSmtpTransport, mailFromAddress } from '../mail/transport.js';
import type { Channel } from './schema.js';

interface SmsMessage {
  to: string;
  body: string;
  statusCallback?: string;
}

export interface EmailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

interface EmailMessage {
  to: string;
  fromName: string;
  replyTo?: string | null;
  subject: string;
  text: string;
  html: string;
  attachments?: EmailAttachment[];
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
    // i18n-exempt: setting names; the development console (engineers only)
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

/** Twilio has no base-URL option: this client rewrites every API address to TWILIO_API_URL. */
class RedirectingRequestClient extends twilio.RequestClient {
  constructor(private readonly base: URL) {
    super({ keepAlive: true, timeout: 15_000 });
    // The SDK builds a keep-alive agent for https only; a plain-http stand-in would
    // get Node's global agent (keep-alive only since Node 19, no socket timeout).
    // Reuse connections explicitly, like the SDK does for the real API.
    if (base.protocol === 'http:') this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, timeout: 15_000 });
  }

  override request<TData>(opts: twilio.RequestClient['request'] extends (o: infer O) => unknown ? O & { data?: TData } : never) {
    const original = new URL(opts.uri);
    const target = new URL(this.base.href);
    target.pathname = `${this.base.pathname.replace(/\/+$/, '')}${original.pathname}`;
    target.search = original.search;
    return super.request<TData>({ ...opts, uri: target.href });
  }
}

function printToConsole(lines: string[]): void {
  // Development only: the point is that a person sees the message.
  process.stdout.write(
    // i18n-exempt: setting names; the development console (engineers only)
    `\n──── outgoing message (development outbox, not sent) ────\n${lines.join('\n')}\n────────────────────────────────────────────────────────\n`,
  );
}

const devSms: SmsSender = {
  kind: 'dev',
  send(message) {
    printToConsole([`To: ${message.to} (SMS)`, '', message.body]);
    return Promise.resolve({ providerId: `dev-${crypto.randomUUID()}` });
  },
};

const devEmail: EmailSender = {
  kind: 'dev',
  send(message) {
    const attached = (message.attachments ?? []).map((a) => `Attached: ${a.filename} (${a.content.length} bytes)`);
    // i18n-exempt: setting names; the development console (engineers only)
    printToConsole([`To: ${message.to} (email from ${message.fromName})`, `Subject: ${message.subject}`, ...attached, '', message.text]);
    return Promise.resolve({ providerId: `dev-${crypto.randomUUID()}` });
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
    ...(t.apiUrl ? { httpClient: new RedirectingRequestClient(new URL(t.apiUrl)) } : { keepAlive: true }),
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

export function getEmailSender(): EmailSender {
  if (email) return email;
  if (channelMode('email') !== 'provider') {
    email = devEmail;
    return email;
  }
  const transport = createSmtpTransport(config.smtp.url!);
  const address = mailFromAddress(config.smtp.from);
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
        ...(message.attachments?.length ? { attachments: message.attachments } : {}),
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
