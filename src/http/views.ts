// Handlebars setup: layouts, partials and the helpers every page may use.
import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import type { Express } from 'express';
import Handlebars, { type HelperOptions } from 'handlebars';

type CompileOptions = Parameters<typeof Handlebars.compile>[1];
import { formatDate, formatDateTime } from '../lib/dates.js';
import { formatMoney, moneyInputValue } from '../lib/money.js';
import { humanize, jobStatusShown, statusLabel } from '../lib/pagination.js';
import { viewsDir } from '../paths.js';

interface OrgLike {
  currency?: string;
  locale?: string;
  time_zone?: string;
}

function rootOrg(options: HelperOptions): OrgLike {
  const root = (options.data as { root?: { org?: OrgLike } } | undefined)?.root;
  return root?.org ?? {};
}

/** Last argument of a helper is Handlebars' options object. */
function split(args: unknown[]): { values: unknown[]; options: HelperOptions } {
  return { values: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

const helpers = {
  money(...args: unknown[]) {
    const { values, options } = split(args);
    const org = rootOrg(options);
    const currency = (values[1] as string | undefined) ?? org.currency ?? 'USD';
    return formatMoney(Number(values[0] ?? 0), currency, org.locale ?? 'en-US');
  },
  moneyInput(...args: unknown[]) {
    const { values, options } = split(args);
    if (values[0] === null || values[0] === undefined || values[0] === '') return '';
    return moneyInputValue(Number(values[0]), (values[1] as string | undefined) ?? rootOrg(options).currency ?? 'USD');
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
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  gt: (a: unknown, b: unknown) => Number(a) > Number(b),
  and: (...args: unknown[]) => split(args).values.every(Boolean),
  or: (...args: unknown[]) => split(args).values.some(Boolean),
  not: (a: unknown) => !a,
  /** "proposal_sent" → "proposal sent" for status badges. */
  humanize,
  statusWords: statusLabel,
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
  /** The message for a form field, from an `errors` object. */
  fieldError: (errors: Record<string, string> | undefined, field: string) => errors?.[field],
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
 * Express's view engine for `views/**.hbs`: Handlebars with the helpers above,
 * every file in `views/partials` as a partial, and a layout from
 * `views/layouts` (`layout` in the locals; `false` for none, default `admin`).
 *
 * Each template is compiled once and reused when Express caches views
 * (production; `view cache`); otherwise every render reads the files again, so
 * an edited template shows on reload. Rendering is then one synchronous call
 * per template: the portal's pages spent more time in express-handlebars'
 * per-render bookkeeping (a promise and a path lookup per partial, twice per
 * page) than in Handlebars itself (issue 16).
 */
export class ViewEngine {
  private readonly handlebars = Handlebars.create();
  private readonly compiled = new Map<string, Template>();
  private partialsLoaded = false;

  constructor(
    private readonly dir: string,
    private readonly defaultLayout = 'admin',
  ) {
    this.handlebars.registerHelper(helpers);
  }

  /** Renders `file` (an absolute path Express resolved) with its layout. */
  render(file: string, locals: Record<string, unknown>, cache: boolean): string {
    if (!cache || !this.partialsLoaded) this.loadPartials();
    const body = this.template(file, cache)(locals).trim();
    const layout = 'layout' in locals ? locals.layout : this.defaultLayout;
    if (!layout) return body;
    if (typeof layout !== 'string') throw new TypeError('a view\'s layout is the name of a file in views/layouts, or false');
    return this.template(path.join(this.dir, 'layouts', `${layout}.hbs`), cache)({ ...locals, body }).trim();
  }

  private template(file: string, cache: boolean): Template {
    let template = cache ? this.compiled.get(file) : undefined;
    if (!template) {
      template = this.handlebars.compile(readFileSync(file, 'utf8').trim(), COMPILE_OPTIONS);
      if (cache) this.compiled.set(file, template);
    }
    return template;
  }

  private loadPartials(): void {
    const partialsDir = path.join(this.dir, 'partials');
    for (const name of readdirSync(partialsDir)) {
      if (!name.endsWith('.hbs')) continue;
      this.handlebars.registerPartial(
        name.slice(0, -4),
        this.handlebars.compile(readFileSync(path.join(partialsDir, name), 'utf8').trim(), COMPILE_OPTIONS),
      );
    }
    this.partialsLoaded = true;
  }
}

export function setupViews(app: Express): void {
  const views = new ViewEngine(viewsDir);
  app.engine('hbs', (file, options, callback) => {
    const { cache, ...locals } = options as Record<string, unknown> & { cache?: boolean };
    let html: string;
    try {
      html = views.render(file, locals, !!cache);
    } catch (err) {
      callback(err);
      return;
    }
    callback(null, html);
  });
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);
}
