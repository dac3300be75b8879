// Finds words people would read that are written in a template or in code
// instead of the catalogue (src/i18n/locales). Used by test/i18n/bare-strings.test.ts.
//
// Templates: text between tags, the attributes people read (placeholder, title,
// alt, aria-label, …) and quoted arguments inside {{…}} that look like words.
// Plain-text templates (emails' text and subject, texts): everything outside {{…}}.
// Code (TypeScript under src/ and workers/): string literals of two words or more,
// and capitalised words given as a label, title, message and the like. Not
// counted: catalogue keys ("ns:key"), SQL, log lines, programmer errors
// (`new Error`), and a line marked `// i18n-exempt: <why>` (on it or the line above).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface BareString {
  file: string;
  line: number;
  text: string;
}

const KEY = /^[a-z][A-Za-z]*:[A-Za-z0-9_.]+$/;
/** Two letters in a row: a word (a lone "x" or "#" is not). */
const WORD = /\p{L}{2,}/u;
const READ_ATTRIBUTES =
  /\s(placeholder|title|alt|aria-label|aria-description|aria-roledescription|aria-valuetext|label|data-confirm)\s*=\s*("([^"]*)"|'([^']*)')/gi;
/** CSS classes passed to partials ("btn btn-secondary") are not words people read. */
const CLASS_LIST = /^[a-z0-9]+(-[a-z0-9]+)*(\s+[a-z0-9]+(-[a-z0-9]+)*)*$/;

function lineOf(source: string, index: number): number {
  return source.slice(0, index).split('\n').length;
}

/** Whether a quoted argument inside {{…}} reads as words. */
function isWordsArgument(value: string): boolean {
  if (KEY.test(value) || !WORD.test(value)) return false;
  // One camelCase name (a form field's, "approverName") is an identifier, not words.
  if (/^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/.test(value)) return false;
  if (/[A-Z]/.test(value) || /[.,!?;:'’]/.test(value)) return true;
  return /\s/.test(value) && !(CLASS_LIST.test(value) && /-/.test(value));
}

export function bareStringsInTemplate(file: string, source: string): BareString[] {
  const found: BareString[] = [];
  const plainText = /\.(text|subject)\.hbs$/.test(file) || file.includes(`${path.sep}sms${path.sep}`);
  // Comments go first, keeping line numbers.
  const blank = (match: string) => match.replace(/[^\n]/g, ' ');
  let text = source.replace(/\{\{!--[\s\S]*?--\}\}/g, blank).replace(/\{\{![\s\S]*?\}\}/g, blank);
  // Quoted arguments inside mustaches, then the mustaches themselves.
  text = text.replace(/\{\{\{?[\s\S]*?\}?\}\}/g, (mustache, offset: number) => {
    for (const m of mustache.matchAll(/"([^"]*)"|'([^']*)'/g)) {
      const value = m[1] ?? m[2] ?? '';
      if (isWordsArgument(value)) found.push({ file, line: lineOf(source, offset + (m.index ?? 0)), text: value });
    }
    return blank(mustache);
  });
  if (plainText) {
    text.split('\n').forEach((line, i) => {
      if (WORD.test(line)) found.push({ file, line: i + 1, text: line.trim() });
    });
    return found;
  }
  text = text
    .replace(/<!--[\s\S]*?-->/g, blank)
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, (m) => blank(m))
    .replace(/&#?[a-z0-9]+;/gi, (m) => ' '.repeat(m.length));
  for (const m of text.matchAll(/<[^>]*>/g)) {
    const tag = m[0];
    for (const a of tag.matchAll(READ_ATTRIBUTES)) {
      const value = a[3] ?? a[4] ?? '';
      if (WORD.test(value)) found.push({ file, line: lineOf(source, (m.index ?? 0) + (a.index ?? 0)), text: `${a[1]}="${value}"` });
    }
    if (/^<input\b/i.test(tag) && /type\s*=\s*["']?(submit|button)/i.test(tag)) {
      const value = /\svalue\s*=\s*("([^"]*)"|'([^']*)')/i.exec(tag);
      if (value && WORD.test(value[2] ?? value[3] ?? '')) found.push({ file, line: lineOf(source, m.index ?? 0), text: value[0].trim() });
    }
  }
  const between = text.replace(/<[^>]*>/g, (m) => '<'.repeat(m.length));
  for (const m of between.matchAll(/[^<]+/g)) {
    if (WORD.test(m[0])) found.push({ file, line: lineOf(source, m.index ?? 0), text: m[0].trim().slice(0, 80) });
  }
  return found;
}

const SQL =
  /^\s*(select|insert|update|delete|with|create|alter|drop|grant|revoke|set|reset|begin|commit|rollback|lock|notify|listen|do|truncate|explain|analyze|refresh|comment)\b/i;
/** Calls whose string arguments are for engineers, not customers. */
const ENGINEER_CALLS =
  /(^|\.)(debug|info|warn|error|fatal|trace|child|raw|whereRaw|orderByRaw|selectRaw|joinRaw|havingRaw|fromRaw|on|once|emit|query|assert|ok|equal|strictEqual|deepEqual|throws|log)$|^(console\.\w+|Error|TypeError|RangeError|SyntaxError|AggregateError|describe|it|before|after|beforeEach|afterEach|require|import)$/;
const LABEL_PROPERTIES =
  /^(label|title|heading|message|text|subject|placeholder|hint|description|summary|caption|name|body|error|flash|sub|detail|action|button)$/i;

function engineerContext(node: ts.Node): boolean {
  for (let parent = node.parent, depth = 0; parent && depth < 6; parent = parent.parent, depth++) {
    if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) {
      const callee = parent.expression.getText();
      if (ENGINEER_CALLS.test(callee)) return true;
      if (/^(logger|log|this\.log|req\.log|res\.log)\b/.test(callee)) return true;
    }
    if (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isTaggedTemplateExpression(parent)) return true;
    if (ts.isTypeNode(parent) || ts.isLiteralTypeNode(parent)) return true;
  }
  return false;
}

function labelContext(node: ts.Node): boolean {
  const parent = node.parent;
  if (ts.isPropertyAssignment(parent) && parent.initializer === node) return LABEL_PROPERTIES.test(parent.name.getText());
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent))
    return /(Error|error|Form|notFound|forbidden|conflict|flash)\b/.test(parent.expression.getText());
  return false;
}

function exempt(lines: string[], line: number): boolean {
  return /i18n-exempt/.test(lines[line - 1] ?? '') || /i18n-exempt/.test(lines[line - 2] ?? '');
}

export function bareStringsInCode(file: string, source: string): BareString[] {
  const found: BareString[] = [];
  const lines = source.split('\n');
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    const literal =
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node);
    if (literal) {
      const value = node.text;
      const words = /\p{L}{2,}[\s,.:;!?'’—–-]+\p{L}{2,}/u.test(value);
      const labelWord = /^\p{Lu}\p{Ll}+/u.test(value) && labelContext(node);
      if ((words || labelWord) && !KEY.test(value.split('|')[0]) && !SQL.test(value) && !engineerContext(node)) {
        const line = sourceFile.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        if (!exempt(lines, line)) found.push({ file, line, text: value.slice(0, 80) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

export function filesUnder(dir: string, extension: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(extension))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}
