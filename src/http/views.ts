// Handlebars setup: layouts, partials and the helpers every page may use.
import path from 'node:path';
import type { Express } from 'express';
import { create, type ExpressHandlebars } from 'express-handlebars';
import Handlebars, { type HelperOptions } from 'handlebars';

type CompileOptions = Parameters<typeof Handlebars.compile>[1];
import { hasKey, statusWords, t, translate, translateNested, DEFAULT_LANGUAGE, type Language } from '../i18n/index.js';
import { formatDate, formatDateTime } from '../lib/dates.js';
import { formatQuantity, formatTaxRate } from '../lib/intl.js';
import { formatMoney, moneyInputValue } from '../lib/money.js';
import { humanize, jobStatusShown } from '../lib/pagination.js';
import { shownPhone } from '../lib/phone.js';
import { viewsDir } from '../paths.js';

interface OrgLike {
  currency?: string;
  locale?: string;
  time_zone?: string;
}

interface RootLike {
  org?: OrgLike;
  /** The reader's language (see src/i18n). */
  lang?: Language;
  /** The locale numbers and dates are written in: the reader's language in the org's country. */
  formatLocale?: string;
}

function root(options: HelperOptions): RootLike {
  return (options.data as { root?: RootLike } | undefined)?.root ?? {};
}

/** The org's currency and time zone, and the locale to write numbers and dates in. */
function rootOrg(options: HelperOptions): OrgLike {
  const { org, formatLocale } = root(options);
  return formatLocale ? { ...org, locale: formatLocale } : (org ?? {});
}

const langOf = (options: HelperOptions): Language => root(options).lang ?? DEFAULT_LANGUAGE;

/** Last argument of a helper is Handlebars' options object. */
function split(args: unknown[]): { values: unknown[]; options: HelperOptions } {
  return { values: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

const helpers = {
  money(...args: unknown[]) {
    const { values, options } = split(args);
    const org = rootOrg(options);
    const currency = (values[1] as string | undefined) ?? org.currency ?? 'USD';
    // i18n-exempt: a locale code
    return formatMoney(Number(values[0] ?? 0), currency, org.locale ?? 'en-US');
  },
  moneyInput(...args: unknown[]) {
    const { values, options } = split(args);
    if (values[0] === null || values[0] === undefined || values[0] === '') return '';
    return moneyInputValue(Number(values[0]), (values[1] as string | undefined) ?? rootOrg(options).currency ?? 'USD');
  },
  /** A line's quantity in the business's number format, without trailing zeros ("140", not "140.00"). */
  quantity(...args: unknown[]) {
    const { values, options } = split(args);
    // i18n-exempt: a locale code
    return formatQuantity(values[0] as number | string, rootOrg(options).locale ?? 'en-US');
  },
  /** A tax rate stored in basis points, as the business writes numbers ("8.25", "8,25"). */
  taxRate(...args: unknown[]) {
    const { values, options } = split(args);
    // i18n-exempt: a locale code
    return formatTaxRate(Number(values[0]), rootOrg(options).locale ?? 'en-US');
  },
  date(...args: unknown[]) {
    const { values, options } = split(args);
    const org = rootOrg(options);
    return formatDate(values[0] as string | Date | null, org.time_zone, org.locale);
  },
  datetime(...args: unknown[]) {
    const { values, options } = split(args);
    const org = rootOrg(options);
    return formatDateTime(values[0] as string | Date | null, org.time_zone, org.locale);
  },
  /** `{{t "ns:key"}}`, `{{t "ns:key" count=n name=x}}`: the catalogue entry in the page's language. */
  t(key: string, options: HelperOptions): string {
    const hash = options.hash as Record<string, unknown>;
    return t(langOf(options), key, Object.keys(hash).length ? hash : undefined);
  },
  /** A catalogue entry that holds markup: its values are escaped here, the entry itself is trusted. */
  tHtml(key: string, options: HelperOptions): Handlebars.SafeString {
    const hash = options.hash as Record<string, unknown>;
    const escaped = Object.fromEntries(
      Object.entries(hash).map(([name, value]) => [name, typeof value === 'number' ? value : Handlebars.escapeExpression(value as string)]),
    );
    return new Handlebars.SafeString(t(langOf(options), key, escaped));
  },
  /** A message written in code (a key, or msg(key, values); see src/i18n) in the page's language. */
  translate: (message: string | undefined, options: HelperOptions) => translate(langOf(options), message),
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  gt: (a: unknown, b: unknown) => Number(a) > Number(b),
  and: (...args: unknown[]) => split(args).values.every(Boolean),
  or: (...args: unknown[]) => split(args).values.some(Boolean),
  not: (a: unknown) => !a,
  /** "proposal_sent" → "proposal sent" for status badges. */
  humanize,
  /** A stored status in the reader's words ("partially_paid" → "Partially paid"). */
  statusWords: (status: unknown, options: HelperOptions) => statusWords(langOf(options), status),
  /** A stored (E.164) phone number as people in the business's country write it; anything else as it is. */
  phone(value: unknown, options: HelperOptions): string {
    if (typeof value !== 'string' || !value.startsWith('+')) return typeof value === 'string' ? value : '';
    // i18n-exempt: a locale code
    return shownPhone(value, rootOrg(options).locale ?? 'en-US').display;
  },
  /** A payment method in the reader's words. */
  methodWords: (method: unknown, options: HelperOptions) =>
    typeof method === 'string' && method ? t(langOf(options), `common:method.${method}`) : '',
  /** Whether a checklist still has a step to do. */
  checklistOpen: (steps: { done: boolean }[] | undefined) => Array.isArray(steps) && steps.some((s) => !s.done),
  jobStatus: (job: { status: string; scheduled_at?: Date | string | null }) => jobStatusShown(job),
  /** "1 open invoice", "3 open invoices": never "invoice(s)". */
  plural(...args: unknown[]) {
    const [count, one, many] = split(args).values as [number | string, string, string];
    return `${Number(count)} ${Number(count) === 1 ? one : many}`;
  },
  /** The session's CSRF token for a form; asking for it is what gives an anonymous visitor a session. */
  csrfToken(options: HelperOptions): string {
    const root = (options.data as { root?: { issueCsrfToken?: () => string } } | undefined)?.root;
    return root?.issueCsrfToken?.() ?? '';
  },
  /** Whether the page being rendered is in the navigation section `href` (for aria-current). */
  navIs(href: string, options: HelperOptions): boolean {
    const current = (options.data as { root?: { requestPath?: string } } | undefined)?.root?.requestPath ?? '';
    return href === '/' ? current === '/' : current === href || current.startsWith(`${href}/`);
  },
  /**
   * A form's own error line: `formError` unless one of the named fields already shows
   * that message beside itself (a refused form names its first field's error as the
   * form's; printing both said the same thing twice).
   */
  formLevelError(...args: unknown[]) {
    const [formError, errors, ...fields] = split(args).values as [string | undefined, Record<string, string> | undefined, ...string[]];
    return formError !== undefined && fields.some((field) => errors?.[field] === formError) ? undefined : formError;
  },
  /** The message for a form field, from an `errors` object. */
  fieldError: (errors: Record<string, string> | undefined, field: string, options: HelperOptions) =>
    errors?.[field] === undefined ? undefined : translate(langOf(options), errors[field]),
  /** A message whose values are messages too ("Photo 2: <why>"), every part in the page's language. */
  translateNested: (message: string | undefined, options: HelperOptions) => translateNested(langOf(options), message),
  /** `{{tJoin "dashboard:customer.languages." lead.language}}`: the entry whose key ends in a stored value; the value itself when there is none. */
  tJoin(prefix: string, value: unknown, options: HelperOptions): string {
    if (typeof value !== 'string' || value === '') return '';
    return hasKey(langOf(options), `${prefix}${value}`) ? t(langOf(options), `${prefix}${value}`) : value;
  },
};

type Template = Handlebars.TemplateDelegate;

/**
 * How templates are compiled. Our helpers are declared known, so a template
 * calls them directly rather than looking each name up first; partials are
 * not re-indented line by line at every render (which also keeps a
 * textarea's text as written).
 */
const COMPILE_OPTIONS: CompileOptions = {
  knownHelpers: Object.fromEntries(Object.keys(helpers).map((name) => [name, true])),
  preventIndent: true,
};

/**
 * Express's view engine for `views/**.hbs`: the helpers above, every file in
 * `views/partials` as a partial, and a layout from `views/layouts` (`layout`
 * in the locals; `false` for none, default `admin`).
 *
 * express-handlebars finds, reads and compiles the files. When Express caches
 * views (production) each compiled template is kept here and a page renders in
 * two synchronous calls (view, layout): going through express-handlebars'
 * render() on every request cost a promise and a path lookup per partial, twice
 * per page — more than Handlebars itself spent on a portal page (issue 16).
 * Without the cache (development) every render reads the files again, so an
 * edited template shows on reload.
 */
class ViewEngine {
  private readonly files: ExpressHandlebars;
  private readonly handlebars = Handlebars.create();
  private readonly compiled = new Map<string, Template>();
  private partialsLoaded = false;

  constructor(
    private readonly dir: string,
    private readonly defaultLayout = 'admin',
  ) {
    this.handlebars.registerHelper(helpers);
    this.files = create({
      handlebars: this.handlebars,
      extname: '.hbs',
      partialsDir: path.join(dir, 'partials'),
      helpers,
      compilerOptions: COMPILE_OPTIONS,
    });
  }

  /** Renders `file` (an absolute path Express resolved) with its layout. */
  async render(file: string, locals: Record<string, unknown>, cache: boolean): Promise<string> {
    const layoutFile = this.layoutFile(locals);
    const [view, frame] = await Promise.all([this.template(file, cache), layoutFile ? this.template(layoutFile, cache) : null]);
    return this.renderWith(view, frame, locals);
  }

  /** The same, synchronously, when both templates are already compiled and cached; undefined otherwise. */
  renderCached(file: string, locals: Record<string, unknown>): string | undefined {
    const layoutFile = this.layoutFile(locals);
    const view = this.compiled.get(file);
    const frame = layoutFile ? this.compiled.get(layoutFile) : null;
    if (!view || frame === undefined) return undefined;
    return this.renderWith(view, frame, locals);
  }

  /** The layout's file: `layout` in the locals (false: none), else the default. */
  private layoutFile(locals: Record<string, unknown>): string | null {
    const layout = 'layout' in locals ? locals.layout : this.defaultLayout;
    if (!layout) return null;
    if (typeof layout !== 'string') throw new TypeError("a view's layout is the name of a file in views/layouts, or false");
    return path.join(this.dir, 'layouts', `${layout}.hbs`);
  }

  private renderWith(view: Template, layout: Template | null, locals: Record<string, unknown>): string {
    const body = view(locals).trim();
    return layout ? layout({ ...locals, body }).trim() : body;
  }

  private async template(file: string, cache: boolean): Promise<Template> {
    const kept = cache ? this.compiled.get(file) : undefined;
    if (kept) return kept;
    if (!cache || !this.partialsLoaded) {
      this.handlebars.registerPartial((await this.files.getPartials({ cache })) as Record<string, Template>);
      this.partialsLoaded = cache;
    }
    const template = (await this.files.getTemplate(file, { cache })) as Template;
    if (cache) this.compiled.set(file, template);
    return template;
  }
}

export function setupViews(app: Express): void {
  const views = new ViewEngine(viewsDir);
  app.engine('hbs', (file, options, callback) => {
    const { cache, ...locals } = options as Record<string, unknown> & { cache?: boolean };
    let html: string | undefined;
    try {
      html = cache ? views.renderCached(file, locals) : undefined;
    } catch (err) {
      callback(err);
      return;
    }
    if (html !== undefined) callback(null, html);
    else views.render(file, locals, !!cache).then((rendered) => callback(null, rendered), callback);
  });
  // i18n-exempt: an Express setting
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);
}
