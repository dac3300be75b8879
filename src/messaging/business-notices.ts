// The emails that tell the business about its customers (a change request on a
// proposal, a request for work from the portal), in the business's language
// (its locale's) from the catalogue (messages:notice).
import Handlebars from 'handlebars';
import { languageOf, t } from '../i18n/index.js';
import type { Db } from '../db/tenancy.js';

export interface NoticeText {
  subject: string;
  text: string;
  html: string;
}

/** The language the business reads: its locale's (es-MX → Spanish). */
async function businessLanguage(db: Db) {
  const org = await db('organizations').first<{ locale: string } | undefined>('locale');
  return languageOf(org?.locale);
}

/** "Ana Ruiz asked for changes to proposal #12 (Gutters)", the customer's message, and where to revise it. */
export async function changeRequestNotice(
  db: Db,
  facts: { customer: string; number: number; title: string; message: string; url: string },
): Promise<NoticeText> {
  const lang = await businessLanguage(db);
  const e = Handlebars.escapeExpression;
  const values = { customer: facts.customer, number: facts.number, title: facts.title };
  const subject = t(lang, 'messages:notice.changes.subject', values);
  const text = `${t(lang, 'messages:notice.changes.intro', values)}\n\n${facts.message}\n\n${t(lang, 'messages:notice.changes.revise', { url: facts.url })}`;
  const html =
    `<p>${t(lang, 'messages:notice.changes.intro', { customer: e(facts.customer), number: facts.number, title: e(facts.title) })}</p>` +
    // i18n-exempt: markup
    `<blockquote style="white-space:pre-wrap">${e(facts.message)}</blockquote>` +
    `<p><a href="${e(facts.url)}">${e(t(lang, 'messages:notice.changes.reviseLink'))}</a></p>`;
  return { subject, text, html };
}

/**
 * A request for work (or to reschedule a job) from the portal: who, what they
 * wrote, where, when suits them, how many photos, and the link to the request.
 */
export async function workRequestNotice(
  db: Db,
  facts: {
    customer: string;
    serviceType: string | null;
    description: string;
    address: string | null;
    preferredTimes: string | null;
    photos: number;
    url: string;
  },
): Promise<NoticeText> {
  const lang = await businessLanguage(db);
  const e = Handlebars.escapeExpression;
  const what = facts.serviceType
    ? t(lang, 'messages:notice.work.reschedule', { service: facts.serviceType })
    : t(lang, 'messages:notice.work.askedForWork');
  const details = [
    facts.address ? t(lang, 'messages:notice.work.where', { address: facts.address }) : null,
    facts.preferredTimes ? t(lang, 'messages:notice.work.when', { times: facts.preferredTimes }) : null,
    facts.photos ? t(lang, 'messages:notice.work.photos', { count: facts.photos }) : null,
  ].filter((line): line is string => line !== null);
  const subject = t(lang, 'messages:notice.work.subject', { customer: facts.customer, what });
  const intro = t(lang, 'messages:notice.work.intro', { customer: facts.customer, what });
  const text = `${intro}\n\n${facts.description}\n\n${details.join('\n')}${details.length ? '\n\n' : ''}${t(lang, 'messages:notice.work.open', { url: facts.url })}`;
  const html =
    `<p>${e(intro)}</p>` +
    // i18n-exempt: markup
    `<blockquote style="white-space:pre-wrap">${e(facts.description)}</blockquote>` +
    details.map((line) => `<p>${e(line)}</p>`).join('') +
    `<p><a href="${e(facts.url)}">${e(t(lang, 'messages:notice.work.openLink'))}</a></p>`;
  return { subject, text, html };
}
