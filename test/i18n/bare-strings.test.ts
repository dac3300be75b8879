// Issue 14, point 1: every word a person reads comes from the catalogue. A word
// written in a template or in code fails here, with its file and line.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { bareStringsInCode, bareStringsInTemplate, filesUnder, type BareString } from '../support/bare-strings.js';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Not translated yet (paths relative to the project; a folder covers what is in it).
 * Every entry is a debt: the list must end empty.
 */
const PENDING: string[] = [
  // the portal, its errors and PDFs
  // emails, texts, message templates, follow-ups, workers
  // dashboard: customers, proposals, jobs, requests, invoices, payments
  // dashboard: settings, sign-in, team, billing, payments set-up, portal links; the HTTP layer
];

const pending = (file: string) => PENDING.some((p) => path.relative(root, file) === p || path.relative(root, file).startsWith(`${p}/`));
const describeAll = (found: BareString[]) => found.map((f) => `${path.relative(root, f.file)}:${f.line}  ${f.text}`).join('\n');

describe('no words outside the catalogue', () => {
  it('templates print words only through {{t}}', () => {
    const found = filesUnder(path.join(root, 'views'), '.hbs')
      .filter((file) => !pending(file) && !file.includes(`${path.sep}dev${path.sep}`))
      .flatMap((file) => bareStringsInTemplate(file, fs.readFileSync(file, 'utf8')));
    expect(found, describeAll(found)).to.deep.equal([]);
  });

  it('code writes words only as catalogue keys or messages', () => {
    const files = [...filesUnder(path.join(root, 'src'), '.ts'), ...filesUnder(path.join(root, 'workers'), '.ts')].filter(
      // src/dev: the local stand-ins for Stripe and the demo data, never shown to a customer.
      (file) => !pending(file) && !file.includes(`${path.sep}src${path.sep}dev${path.sep}`),
    );
    const found = files.flatMap((file) => bareStringsInCode(file, fs.readFileSync(file, 'utf8')));
    expect(found, describeAll(found)).to.deep.equal([]);
  });

  it('the scanner finds words where they hide', () => {
    const template = [
      '<p>Pay now</p>',
      '<input placeholder="Your email">',
      '{{> field label="Full name"}}',
      '<button class="{{#if x}}btn btn-primary{{/if}}">{{t "portal:pay"}}</button>',
      '{{#if (eq status "paid")}}<span>{{money total}}</span>{{/if}} &middot; #{{number}}',
      '{{#with (formLevelError formError errors "approverName" "Full name")}}{{translate this}}{{/with}}',
    ].join('\n');
    expect(bareStringsInTemplate('/x/a.hbs', template).map((f) => f.line)).to.deep.equal([3, 6, 2, 1]);
    expect(bareStringsInTemplate('/x/sms/a.hbs', 'Hi {{firstName}}, {{link}}')).to.have.length(1);
    const code = [
      "throw new FormError({ name: 'Enter a name' });",
      "logger.info('sent the batch');",
      "const key = 'portal:tabs.invoices';",
      "const sql = 'select id from leads where org_id = ?';",
      "const label = { label: 'Paid' };",
      '// i18n-exempt: a header value',
      "res.set('Content-Disposition', 'attachment; filename=x');",
    ].join('\n');
    expect(bareStringsInCode('/x/a.ts', code).map((f) => f.line)).to.deep.equal([1, 5]);
  });
});
