// Message templates, per language: the default wording of each channel +
// context is a catalogue entry (messages:defaults.<channel>.<context>, read as
// written — its {{placeholders}} are the template's, not i18next's), and each
// org may override one per channel + context + language (message_templates).
// Only a fixed set of variables exists, and an edited template must compile and
// use nothing else. The branded HTML layout is views/messages/email/layout.html.hbs,
// its words from the catalogue in the message's language.
import Handlebars from 'handlebars';
import type { Db } from '../db/tenancy.js';
import { formatDate } from '../lib/dates.js';
import { formatMoney } from '../lib/money.js';
import { brandedEmailHtml, type Branding } from '../db/email-layout.js';
import { entryAsWritten, formatLocale, msg, t, DEFAULT_LANGUAGE, type Language } from '../i18n/index.js';
import { FormError } from '../lib/errors.js';
import { joinValueStops, markValueStops } from '../i18n/full-stop.js';
import { stripPlaceholder } from './link-placeholder.js';
import type { Channel, MessageContext } from './schema.js';

/** The only values a template can see. */
export interface TemplateVars {
  firstName: string;
  businessName: string;
  link: string;
  proposalNumber?: number | null;
  invoiceNumber?: number | null;
  /** The invoice's balance due, formatted in its currency ("$1,250.00"). */
  amountDue?: string | null;
  /** The invoice's due date, formatted for the business ("Dec 15, 2026"). */
  dueDate?: string | null;
}

export const TEMPLATE_VARIABLES = ['firstName', 'businessName', 'link', 'proposalNumber', 'invoiceNumber', 'amountDue', 'dueDate'] as const;
const ALLOWED = new Set<string>(TEMPLATE_VARIABLES);
const BLOCK_HELPERS = new Set(['if', 'unless']);

export interface TemplateSource {
  subject: string | null; // email only
  body: string;
}

const defaults = new Map<string, TemplateSource>();

/** The default wording of a channel + context in `lang` (the catalogue's messages:defaults). */
export function defaultTemplate(channel: Channel, context: MessageContext, lang: Language = DEFAULT_LANGUAGE): TemplateSource {
  const key = `${lang}/${channel}/${context}`;
  let found = defaults.get(key);
  if (!found) {
    found =
      channel === 'sms'
        ? { subject: null, body: entryAsWritten(lang, `messages:defaults.sms.${context}`) }
        : {
            subject: entryAsWritten(lang, `messages:defaults.email.${context}.subject`),
            body: entryAsWritten(lang, `messages:defaults.email.${context}.text`),
          };
    defaults.set(key, found);
  }
  return found;
}

type Node = hbs.AST.Node;

const hasOptions = (node: { hash?: hbs.AST.Hash }) => (node.hash?.pairs.length ?? 0) > 0;

/** A problem in a template: its catalogue entry (messages:template.<key>) and values. */
interface Problem {
  key: 'notPlaceholder' | 'takesNothing' | 'blockNotAllowed' | 'noPartials';
  values?: Record<string, string>;
}

/** Every placeholder must be one of the allowed variables, with no arguments or options; only #if/#unless blocks. */
function checkNodes(nodes: Node[], problems: Problem[]): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        break;
      case 'MustacheStatement': {
        const m = node as hbs.AST.MustacheStatement;
        const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
        if (!ALLOWED.has(name)) problems.push({ key: 'notPlaceholder', values: { placeholder: `{{${name || '…'}}}` } });
        else if (m.params.length > 0 || hasOptions(m)) problems.push({ key: 'takesNothing', values: { placeholder: `{{${name}}}` } });
        break;
      }
      case 'BlockStatement': {
        const b = node as hbs.AST.BlockStatement;
        const helper = b.path.original;
        const param = b.params[0] as hbs.AST.PathExpression | undefined;
        if (
          !BLOCK_HELPERS.has(helper) ||
          b.params.length !== 1 ||
          hasOptions(b) ||
          param?.type !== 'PathExpression' ||
          !ALLOWED.has(param.original)
        ) {
          // i18n-exempt: a file name, Handlebars syntax and a sample address
          problems.push({ key: 'blockNotAllowed', values: { block: `{{#${helper} …}}`, example: '{{#if name}} … {{/if}}' } });
        } else {
          checkNodes(b.program.body, problems);
          if (b.inverse) checkNodes(b.inverse.body, problems);
        }
        break;
      }
      default:
        problems.push({ key: 'noPartials' });
    }
  }
}

const SAMPLE_VARS: Omit<TemplateVars, 'businessName'> = {
  firstName: 'Sarah',
  // As long as a real link (43 characters of token), so the preview's length and SMS count are true.
  // i18n-exempt: a file name, Handlebars syntax and a sample address
  link: 'https://example.com/p/Sample-private-link-for-the-preview-0000000',
  proposalNumber: 1042,
  invoiceNumber: 2087,
  amountDue: '$1,250.00',
  dueDate: 'Dec 15, 2026',
};

/** The sample values in a language and the org's locale: the amount and the date as the customer would read them. */
export function sampleVars(lang: Language, locale: string): Omit<TemplateVars, 'businessName'> {
  return {
    ...SAMPLE_VARS,
    amountDue: formatMoney(125_000, 'USD', formatLocale(lang, locale)),
    dueDate: formatDate('2026-12-15', 'UTC', formatLocale(lang, locale)),
  };
}

/** Compiles a template after checking it; throws FormError on `field` when it is not usable. */
export function compileMessageTemplate(source: string, field = 'body'): HandlebarsTemplateDelegate<TemplateVars> {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch (err) {
    throw new FormError({ [field]: syntaxErrorMessage(err as Error & { lineNumber?: number }) });
  }
  const problems: Problem[] = [];
  checkNodes(ast.body, problems);
  if (problems.length) {
    const available = TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ');
    throw new FormError({ [field]: msg(`messages:template.${problems[0].key}`, { ...problems[0].values, available }) });
  }
  // Messages are plain text: no HTML escaping; the HTML email escapes on its own.
  const template = Handlebars.compile<TemplateVars>(source, { noEscape: true, strict: false, knownHelpersOnly: true });
  // Handlebars compiles lazily, on the first call: render once now, so nothing the checker let through fails later.
  try {
    template({ ...SAMPLE_VARS, businessName: t(DEFAULT_LANGUAGE, 'messages:template.sampleBusiness') });
  } catch (err) {
    throw new FormError({ [field]: msg('messages:template.cantBeUsed', { error: String((err as Error).message).split('\n')[0] }) });
  }
  return template;
}

/** Checks a template as the editor saves it: both parts usable, {{link}} in the body. Throws FormError. */
export function checkMessageTemplate(channel: Channel, subject: string | null | undefined, body: string): void {
  const fields: Record<string, string> = {};
  const check = (source: string, field: string) => {
    try {
      compileMessageTemplate(source, field);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      Object.assign(fields, err.fields);
    }
  };
  check(body, 'body');
  if (channel === 'email') {
    if (!subject) fields.subject = 'messages:template.writeSubject';
    else check(subject, 'subject');
  }
  if (!body.includes('{{link}}')) fields.body ??= msg('messages:template.needsLink', { placeholder: '{{link}}' });
  if (Object.keys(fields).length) throw new FormError(fields);
}

/** Why a stored template can't be used (it was saved before a check that now refuses it), per field, or null. */
export function storedTemplateProblem(channel: Channel, template: TemplateSource): Record<string, string> | null {
  try {
    checkMessageTemplate(channel, template.subject, template.body);
    return null;
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    return err.fields;
  }
}

export interface RenderedMessage {
  subject: string | null;
  text: string;
  html: string | null;
}

function tidy(text: string): string {
  return text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * What Handlebars' parser refused, said for someone who edits a text message: which tag is
 * missing or stray, and on which line ("Parse error on line 1:" and a caret say neither).
 */
function syntaxErrorMessage(err: Error & { lineNumber?: number }): string {
  const text = String(err.message);
  const line = err.lineNumber ?? Number(/on line (\d+)/.exec(text)?.[1] ?? 1);
  // i18n-exempt: the template syntax a message shows, as written in a template
  const tags = { open: '{{', close: '}}', block: '{{#if …}}', end: '{{/if}}' };
  if (/got 'EOF'/.test(text)) return msg('messages:template.unclosedBlock', { ...tags, line });
  if (/got 'OPEN_ENDBLOCK'/.test(text)) return msg('messages:template.strayClose', { ...tags, line });
  if (/doesn't match/.test(text)) return msg('messages:template.mismatchedBlock', { ...tags, line });
  return msg('messages:template.syntaxError', { ...tags, line });
}

/**
 * Renders a template with only the allowed variables. `vars.link` is the only
 * way the portal-link placeholder (link-placeholder.ts) gets into the result:
 * it is removed from the template and every other value first.
 */
export function renderMessage(
  channel: Channel,
  template: TemplateSource,
  vars: TemplateVars,
  brand: Branding,
  lang: Language = DEFAULT_LANGUAGE,
): RenderedMessage {
  const clean = (value: string | null | undefined) => (value == null ? null : stripPlaceholder(value));
  const only: TemplateVars = {
    firstName: stripPlaceholder(vars.firstName),
    businessName: stripPlaceholder(vars.businessName),
    link: vars.link,
    proposalNumber: vars.proposalNumber ?? null,
    invoiceNumber: vars.invoiceNumber ?? null,
    amountDue: clean(vars.amountDue),
    dueDate: clean(vars.dueDate),
  };
  // A value ending in a full stop ("Acme Co.") before the wording's own gives one (src/i18n/full-stop.ts).
  const marked = markValueStops(only);
  const render = (source: string, field?: string) => tidy(joinValueStops(compileMessageTemplate(stripPlaceholder(source), field)(marked)));
  const text = render(template.body);
  if (channel === 'sms') return { subject: null, text, html: null };
  const subject = render(template.subject ?? '', 'subject').replace(/\s+/g, ' ');
  const html = brandedEmailHtml({
    lang,
    subject,
    paragraphsHtml: text
      .split(/\n{2,}/)
      .map((p) => p.trim())
      // The button and the address under it carry the link: a paragraph holding it would show it a second time.
      .filter((p) => p && !p.includes(vars.link))
      .map((p) => Handlebars.escapeExpression(p)),
    link: vars.link,
    brand: {
      businessName: clean(brand.businessName) ?? '',
      brandColor: brand.brandColor,
      businessEmail: clean(brand.businessEmail),
      businessPhone: clean(brand.businessPhone),
    },
  });
  return { subject, text, html };
}

export interface LoadedTemplate extends TemplateSource {
  /** The org saved its own wording (it may still be unusable: see `problem`). */
  custom: boolean;
}

/** The org's template for a channel + context in `lang`, or that language's default wording. */
export async function loadTemplate(
  db: Db,
  channel: Channel,
  context: MessageContext,
  lang: Language = DEFAULT_LANGUAGE,
): Promise<LoadedTemplate> {
  const row = await db('message_templates')
    .where({ channel, context, language: lang })
    .first<{ subject: string | null; body: string } | undefined>('subject', 'body');
  if (row) return { subject: row.subject, body: row.body, custom: true };
  return { ...defaultTemplate(channel, context, lang), custom: false };
}

export interface UsableTemplate {
  template: TemplateSource;
  /** The org's own wording couldn't be used and the default stands in for it. */
  fellBack: boolean;
}

/** The template to send with: the org's own when it is usable, else the default (both in `lang`). */
export function usableTemplate(
  channel: Channel,
  context: MessageContext,
  loaded: LoadedTemplate,
  lang: Language = DEFAULT_LANGUAGE,
): UsableTemplate {
  if (!loaded.custom || !storedTemplateProblem(channel, loaded)) return { template: loaded, fellBack: false };
  return { template: defaultTemplate(channel, context, lang), fellBack: true };
}
