// Account emails (invitations, password resets), through the shared SMTP
// transport factory. Customer messages go through the messaging outbox, not here.
import fs from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { Transporter } from 'nodemailer';
import { config } from '../config.js';
import { t as translateKey, DEFAULT_LANGUAGE, type Language } from '../i18n/index.js';
import { logger } from '../logger.js';
import { viewsDir } from '../paths.js';
import { createSmtpTransport } from './transport.js';

export interface AccountEmail {
  to: string;
  /** views/emails/<template>.subject.hbs, .text.hbs and .html.hbs */
  template: string;
  locals: Record<string, unknown>;
  /** The reader's language (the org's for an invitation, the browser's for sign-up and password reset). */
  lang?: Language;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

let transport: Transporter | undefined;

/** The SMTP transport from SMTP_URL, or undefined when unset. */
function getTransport(): Transporter | undefined {
  if (!config.smtp.url) return undefined;
  transport ??= createSmtpTransport(config.smtp.url);
  return transport;
}

/** Closes the pool (shutdown) or forgets the transport after tests change config.smtp.url. */
export function closeMailer(): Promise<void> {
  const current = transport;
  transport = undefined;
  current?.close();
  return Promise.resolve();
}

/**
 * The account emails' Handlebars: `{{t …}}` and `{{tHtml …}}` with an emails catalogue key
 * (an entry with markup, its values escaped) in the email's `lang` local.
 */
const mailHandlebars = Handlebars.create();
const langOf = (options: Handlebars.HelperOptions): Language =>
  (options.data as { root?: { lang?: Language } } | undefined)?.root?.lang ?? DEFAULT_LANGUAGE;
mailHandlebars.registerHelper('t', (key: string, options: Handlebars.HelperOptions) => {
  const hash = options.hash as Record<string, unknown>;
  return translateKey(langOf(options), key, Object.keys(hash).length ? hash : undefined);
});
mailHandlebars.registerHelper('tHtml', (key: string, options: Handlebars.HelperOptions) => {
  const hash = options.hash as Record<string, unknown>;
  const escaped = Object.fromEntries(
    Object.entries(hash).map(([name, value]) => [name, typeof value === 'number' ? value : Handlebars.escapeExpression(String(value))]),
  );
  return new Handlebars.SafeString(translateKey(langOf(options), key, escaped));
});

type Compiled = { subject: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate; html: Handlebars.TemplateDelegate };
const compiled = new Map<string, Promise<Compiled>>();

async function loadTemplate(name: string): Promise<Compiled> {
  const read = (suffix: string) => fs.readFile(path.join(viewsDir, 'emails', `${name}.${suffix}.hbs`), 'utf8');
  const [subject, text, html] = await Promise.all([read('subject'), read('text'), read('html')]);
  return {
    subject: mailHandlebars.compile(subject.trim(), { noEscape: true, strict: true }),
    text: mailHandlebars.compile(text, { noEscape: true, strict: true }),
    html: mailHandlebars.compile(html, { strict: true }),
  };
}

export async function renderAccountEmail(
  template: string,
  locals: Record<string, unknown>,
  lang: Language = DEFAULT_LANGUAGE,
): Promise<RenderedEmail> {
  if (!/^[a-z][a-z0-9-]*$/.test(template)) throw new Error(`bad email template name "${template}"`);
  let entry = compiled.get(template);
  if (!entry) {
    entry = loadTemplate(template);
    // In development, edits to a template show up on the next email.
    if (!config.isDevelopment) compiled.set(template, entry);
  }
  const t = await entry;
  const data = { ...locals, lang };
  return { subject: t.subject(data).replace(/\s+/g, ' '), text: t.text(data), html: t.html(data) };
}

export interface DevAccountEmail {
  to: string;
  subject: string;
  text: string;
  sentAt: Date;
}

/** Outside production without SMTP_URL: the last account emails, for the development outbox page. */
const devMailbox: DevAccountEmail[] = [];
const DEV_MAILBOX_SIZE = 25;

/** Newest first. Empty in production (nothing is ever kept there). */
export function devAccountEmails(): readonly DevAccountEmail[] {
  return devMailbox;
}

/**
 * Sends an account email. Without SMTP_URL: outside production it is kept for
 * the development outbox (/dev/outbox, so a developer can follow the link); in
 * production only its headers are logged, since the body holds a one-time token.
 */
export async function sendAccountEmail(email: AccountEmail): Promise<void> {
  const rendered = await renderAccountEmail(email.template, email.locals, email.lang);
  const smtp = getTransport();
  if (!smtp) {
    if (config.isProduction) {
      logger.warn({ to: email.to, subject: rendered.subject }, 'email not sent: SMTP_URL is not set');
    } else {
      // Like customer messages: kept for /dev/outbox (links included) instead of filling the console.
      devMailbox.unshift({ to: email.to, subject: rendered.subject, text: rendered.text, sentAt: new Date() });
      devMailbox.length = Math.min(devMailbox.length, DEV_MAILBOX_SIZE);
      logger.info(`email "${rendered.subject}" to ${email.to} (SMTP_URL unset): open /dev/outbox to read it`);
    }
    return;
  }
  await smtp.sendMail({ from: config.smtp.from, to: email.to, subject: rendered.subject, text: rendered.text, html: rendered.html });
}
