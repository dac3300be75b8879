// Preloaded into Stryker's TypeScript checker processes (`checkerNodeArgs` in stryker.config.mjs).
//
// The checker's solution builder builds its whole program again for every mutant and keeps parsed files
// only for the length of one build, so each check parsed every declaration file again: 10.4 MB of them in
// the `payments` group (stripe's types alone are 6.5 MB), about 2 s of CPU per mutant. TypeScript's own
// watch program and language service avoid that by handing the next program the SourceFile objects of
// files whose text has not changed; this does the same for the checker: a parsed file is reused when its
// name, its parse options and its whole text are the same as last time, and parsed afresh otherwise (so a
// mutated file is always parsed from its mutated text).
//
// The hook is TypeScript's one place that turns a host's file text into a SourceFile (createGetSourceFile,
// behind every compiler host). TypeScript exports no way to replace it, so its module text is changed as
// it loads; when that text is not found (another TypeScript version), the checker runs unchanged and says so.
'use strict';

const Module = require('node:module');
const path = require('node:path');

const TYPESCRIPT_MODULE = `${path.sep}node_modules${path.sep}typescript${path.sep}lib${path.sep}typescript.js`;
const PARSE_CALL = 'return text !== void 0 ? createSourceFile(fileName, text, languageVersionOrOptions, setParentNodes) : void 0;';
const CACHED_PARSE_CALL = `return text !== void 0 ? require(${JSON.stringify(__filename)}).parse(createSourceFile, fileName, text, languageVersionOrOptions, setParentNodes) : void 0;`;

/** @type {Map<string, { text: string; sourceFile: unknown }>} */
const parsed = new Map();

/** createSourceFile's result for this text, the one parsed before when nothing that shapes it changed. */
function parse(createSourceFile, fileName, text, options, setParentNodes) {
  const key =
    typeof options === 'object'
      ? `${fileName}\0${options.languageVersion}\0${options.impliedNodeFormat}\0${options.jsDocParsingMode}\0${setParentNodes}`
      : `${fileName}\0${options}\0${setParentNodes}`;
  const last = parsed.get(key);
  // Objects as options also carry setExternalModuleIndicator, a function made per program from its options;
  // the program's options are the same for every mutant, so it decides the same for the same text.
  if (last && last.text === text) return last.sourceFile;
  const sourceFile = createSourceFile(fileName, text, options, setParentNodes);
  parsed.set(key, { text, sourceFile });
  return sourceFile;
}

const compile = Module.prototype._compile;
Module.prototype._compile = function compileWithParseCache(content, filename) {
  if (filename.endsWith(TYPESCRIPT_MODULE)) {
    Module.prototype._compile = compile;
    if (content.includes(PARSE_CALL)) {
      content = content.replace(PARSE_CALL, CACHED_PARSE_CALL);
    } else {
      process.emitWarning(`${__filename}: TypeScript's parse call not found in ${filename}; parsed files are not reused`);
    }
  }
  return compile.call(this, content, filename);
};

module.exports = { parse };
