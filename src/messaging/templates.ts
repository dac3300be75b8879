// Message templates: defaults are files under views/messages/, each org may
// override one per channel + context. Only a fixed set of variables exists, and
// an edited template must compile and use nothing else.
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { Db } from '../db/tenancy.js';
import { brandPalette } from '../lib/contrast.js';
import { FormError } from '../lib/errors.js';
import { viewsDir } from '../paths.js';
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

const messagesDir = path.join(viewsDir, 'messages');

function readDefault(file: string): string {
  return fs.readFileSync(path.join(messagesDir, file), 'utf8').replace(/\s+$/, '');
}

const defaults = new Map<string, TemplateSource>();
const layoutHtml = Handlebars.compile(fs.readFileSync(path.join(messagesDir, 'email/layout.html.hbs'), 'utf8'), {
  strict: false,
});

export function defaultTemplate(channel: Channel, context: MessageContext): TemplateSource {
  const key = `${channel}/${context}`;
  let found = defaults.get(key);
  if (!found) {
    found =
      channel === 'sms'
        ? { subject: null, body: readDefault(`sms/${context}.hbs`) }
        : { subject: readDefault(`email/${context}.subject.hbs`), body: readDefault(`email/${context}.text.hbs`) };
    defaults.set(key, found);
  }
  return found;
}

type Node = hbs.AST.Node;

const hasOptions = (node: { hash?: hbs.AST.Hash }) => (node.hash?.pairs.length ?? 0) > 0;

/** Every placeholder must be one of the allowed variables, with no arguments or options; only #if/#unless blocks. */
function checkNodes(nodes: Node[], problems: string[]): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        break;
      case 'MustacheStatement': {
        const m = node as hbs.AST.MustacheStatement;
        const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
        if (!ALLOWED.has(name)) problems.push(`{{${name || '…'}}} is not a placeholder you can use`);
        else if (m.params.length > 0 || hasOptions(m)) problems.push(`{{${name}}} takes nothing after its name; write just {{${name}}}`);
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
          problems.push(`{{#${helper} …}} is not allowed; use {{#if name}} … {{/if}} with one of the placeholders`);
        } else {
          checkNodes(b.program.body, problems);
          if (b.inverse) checkNodes(b.inverse.body, problems);
        }
        break;
      }
      default:
        problems.push('partials and other Handlebars features are not allowed in messages');
    }
  }
}

export const SAMPLE_VARS: Omit<TemplateVars, 'businessName'> = {
  firstName: 'Sarah',
  // As long as a real link (43 characters of token), so the preview's length and SMS count are true.
  link: 'https://example.com/p/Sample-private-link-for-the-preview-0000000',
  proposalNumber: 1042,
  invoiceNumber: 2087,
  amountDue: '$1,250.00',
  dueDate: 'Dec 15, 2026',
};

/** Compiles a template after checking it; throws FormError on `field` when it is not usable. */
export function compileMessageTemplate(source: string, field = 'body'): HandlebarsTemplateDelegate<TemplateVars> {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch (err) {
    const first = String((err as Error).message).split('\n')[0];
    throw new FormError({ [field]: `The template has a syntax error: ${first}` });
  }
  const problems: string[] = [];
  checkNodes(ast.body, problems);
  if (problems.length) {
    throw new FormError({
      [field]: `${problems[0]}. Available: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}.`,
    });
  }
  // Messages are plain text: no HTML escaping; the HTML email escapes on its own.
  const template = Handlebars.compile<TemplateVars>(source, { noEscape: true, strict: false, knownHelpersOnly: true });
  // Handlebars compiles lazily, on the first call: render once now, so nothing the checker let through fails later.
  try {
    template({ ...SAMPLE_VARS, businessName: 'Sample Business' });
  } catch (err) {
    throw new FormError({ [field]: `The template can’t be used: ${String((err as Error).message).split('\n')[0]}` });
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
    if (!subject) fields.subject = 'write a subject';
    else check(subject, 'subject');
  }
  if (!body.includes('{{link}}')) fields.body ??= 'The message must contain {{link}}, or the customer gets nothing to open.';
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

export interface Branding {
  businessName: string;
  brandColor: string;
  businessEmail?: string | null;
  businessPhone?: string | null;
}

function tidy(text: string): string {
  return text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Renders a template with only the allowed variables. `vars.link` is the only
 * way the portal-link placeholder (link-placeholder.ts) gets into the result:
 * it is removed from the template and every other value first.
 */
export function renderMessage(channel: Channel, template: TemplateSource, vars: TemplateVars, brand: Branding): RenderedMessage {
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
  const text = tidy(compileMessageTemplate(stripPlaceholder(template.body))(only));
  if (channel === 'sms') return { subject: null, text, html: null };
  const subject = tidy(compileMessageTemplate(stripPlaceholder(template.subject ?? ''), 'subject')(only)).replace(/\s+/g, ' ');
  const palette = brandPalette(brand.brandColor);
  const html = layoutHtml({
    subject,
    paragraphs: text
      .split(/\n{2,}/)
      .map((p) => p.trim())
      // The button and the address under it carry the link: a paragraph holding it would show it a second time.
      .filter((p) => p && !p.includes(vars.link)),
    link: vars.link,
    businessName: clean(brand.businessName),
    brandColor: palette.brand,
    onBrand: palette.onBrand,
    brandText: palette.brandText,
    businessEmail: clean(brand.businessEmail),
    businessPhone: clean(brand.businessPhone),
  });
  return { subject, text, html };
}

export interface LoadedTemplate extends TemplateSource {
  /** The org saved its own wording (it may still be unusable: see `problem`). */
  custom: boolean;
}

/** The org's template for a channel + context, or the default file. */
export async function loadTemplate(db: Db, channel: Channel, context: MessageContext): Promise<LoadedTemplate> {
  const row = await db('message_templates')
    .where({ channel, context })
    .first<{ subject: string | null; body: string } | undefined>('subject', 'body');
  if (row) return { subject: row.subject, body: row.body, custom: true };
  return { ...defaultTemplate(channel, context), custom: false };
}

export interface UsableTemplate {
  template: TemplateSource;
  /** The org's own wording couldn't be used and the default stands in for it. */
  fellBack: boolean;
}

/** The template to send with: the org's own when it is usable, else the default. */
export function usableTemplate(channel: Channel, context: MessageContext, loaded: LoadedTemplate): UsableTemplate {
  if (!loaded.custom || !storedTemplateProblem(channel, loaded)) return { template: loaded, fellBack: false };
  return { template: defaultTemplate(channel, context), fellBack: true };
}
