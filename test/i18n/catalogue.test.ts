// Issue 14, point 1: one catalogue per language with the same entries, real
// plural forms for each language, and every key a template or code uses written.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { LANGUAGES, localesDir, t, translate, msg, formatLocale, languageOf, statusWords } from '../../src/i18n/index.js';
import { filesUnder } from '../support/bare-strings.js';

const root = path.resolve(import.meta.dirname, '../..');
const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

function catalogue(language: string): Map<string, string[]> {
  const dir = path.join(localesDir, language);
  return new Map(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f.slice(0, -5), flatten(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))]),
  );
}

/** Keys without their plural ending, each once. */
const baseKeys = (keys: string[]) => [...new Set(keys.map((k) => k.replace(PLURAL, '')))].sort();

describe('the message catalogues', () => {
  const catalogues = new Map(LANGUAGES.map((language) => [language, catalogue(language)]));

  it('every language has the same namespaces and entries', () => {
    const english = catalogues.get('en')!;
    for (const language of LANGUAGES) {
      const other = catalogues.get(language)!;
      expect([...other.keys()].sort(), language).to.deep.equal([...english.keys()].sort());
      for (const [namespace, keys] of english)
        expect(baseKeys(other.get(namespace)!), `${language}/${namespace}`).to.deep.equal(baseKeys(keys));
    }
  });

  it('English writes its apostrophes one way (’), outside the message templates a business edits', () => {
    const dir = path.join(localesDir, 'en');
    const straight: string[] = [];
    const walk = (value: unknown, key: string) => {
      if (typeof value === 'string') {
        if (/[A-Za-z}]'[a-z]/.test(value)) straight.push(`${key}: ${value.slice(0, 60)}`);
      } else if (key !== 'messages:defaults') {
        // The default texts and emails stay plain ASCII: a curly apostrophe would make every text a Unicode one.
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, key.includes(':') ? `${key}.${k}` : `${key}:${k}`);
      }
    };
    for (const f of fs.readdirSync(dir).filter((name) => name.endsWith('.json')))
      walk(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), f.slice(0, -5));
    expect(straight).to.deep.equal([]);
  });

  it("a counted entry has every plural form of its language's rules (es: one, many, other)", () => {
    for (const language of LANGUAGES) {
      const categories = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
      for (const [namespace, keys] of catalogues.get(language)!) {
        for (const base of new Set(keys.filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, '')))) {
          for (const category of categories)
            expect(keys, `${language}/${namespace}: ${base}_${category}`).to.include(`${base}_${category}`);
        }
      }
    }
  });

  it('every key a template or code names is written', () => {
    const namespaces = [...catalogues.get('en')!.keys()];
    const used = new Set<string>();
    for (const file of filesUnder(path.join(root, 'views'), '.hbs')) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/["']([a-z][A-Za-z]*:[A-Za-z0-9_.]+)["']/g)) used.add(m[1]);
    }
    for (const file of [...filesUnder(path.join(root, 'src'), '.ts'), ...filesUnder(path.join(root, 'workers'), '.ts')]) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/['"`]([a-z][A-Za-z]*:[A-Za-z0-9_.]+)['"`|]/g)) used.add(m[1]);
    }
    const missing: string[] = [];
    for (const key of used) {
      const [namespace, rest] = key.split(':');
      if (!namespaces.includes(namespace) || rest.endsWith('.')) continue;
      for (const language of LANGUAGES) {
        const keys = catalogues.get(language)!.get(namespace)!;
        if (!keys.includes(rest) && !keys.some((k) => k.replace(PLURAL, '') === rest) && !keys.some((k) => k.startsWith(`${rest}.`))) {
          missing.push(`${language} ${key}`);
        }
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('a follow-up and an autopay notice end where their link goes, in every language (their email puts a button there)', () => {
    const read = (language: string, namespace: string) =>
      JSON.parse(fs.readFileSync(path.join(localesDir, language, `${namespace}.json`), 'utf8')) as Record<string, Record<string, string>>;
    for (const language of LANGUAGES) {
      const followups = Object.entries(read(language, 'messages').followup).filter(([key]) => !key.startsWith('subject'));
      expect(followups, language).to.have.length(4);
      for (const [key, text] of followups) expect(text, `${language} ${key}`).to.match(/\{\{link\}\}$/);
      expect(read(language, 'autopay').notice.pay, language).to.match(/:$/);
    }
  });

  it('messages written in code read in the reader’s language, with their values', () => {
    expect(translate('es', 'common:status.partially_paid')).to.equal('Pagada en parte');
    expect(translate('en', 'common:status.partially_paid')).to.equal('Partially paid');
    expect(translate('es', msg('common:errors.checkForm', { n: 1 }))).to.equal('Revise el formulario');
    // Text that is no message (a customer's words) is left alone.
    expect(translate('es', "O'Brien & Sons: fix the gate")).to.equal("O'Brien & Sons: fix the gate");
    expect(t('es', 'common:status.succeeded')).to.equal('Pagado');
    expect(statusWords('es', 'in_progress')).to.equal('En curso');
    expect(statusWords('es', 'some_new_state')).to.equal('Some new state');
  });

  it('numbers and dates follow the reader’s language in the business’s country', () => {
    expect(languageOf('es-MX')).to.equal('es');
    expect(languageOf('fr-CA')).to.equal('en');
    expect(formatLocale('es', 'en-US')).to.equal('es-US');
    expect(formatLocale('en', 'es-MX')).to.equal('en-MX');
    expect(new Intl.NumberFormat(formatLocale('es', 'es-ES'), { style: 'currency', currency: 'EUR' }).format(12500)).to.match(
      /12\.500,00\s€/,
    );
  });
});
