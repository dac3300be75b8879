// The one SMTP transport factory: SMTP_URL as the README documents it.
//   smtp://user:pass@host:587   STARTTLS required
//   smtps://… or port 465       implicit TLS
//   ?tls=off                    plain SMTP (a local server)
//   ?pool=N                     pooled connections (default 10)
import nodemailer, { type Transporter } from 'nodemailer';

/** SMTP connections in the pool unless SMTP_URL says ?pool=N. */
const DEFAULT_SMTP_CONNECTIONS = 10;

export function createSmtpTransport(smtpUrl: string): Transporter {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:' || url.port === '465';
  return nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (secure ? 465 : 587)),
    secure,
    ...(url.searchParams.get('tls') === 'off' ? { ignoreTLS: true } : { requireTLS: !secure }),
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: true,
    // Bounded, so a message can only stay 'sending' this long while a worker is alive (messaging/deliver.ts).
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    // The send worker runs many jobs at once and each email waits for a free
    // connection; nodemailer's default of 5 queues them (README: Benchmarks).
    maxConnections: Number(url.searchParams.get('pool') ?? DEFAULT_SMTP_CONNECTIONS),
    maxMessages: 100,
  });
}

/** The address part of MAIL_FROM ('Porchlight <no-reply@x>' → 'no-reply@x'). */
export function mailFromAddress(from: string): string {
  const match = /<([^>]+)>/.exec(from);
  return (match ? match[1] : from).trim();
}
