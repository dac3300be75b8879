// Runs dependency-cruiser with .dependency-cruiser.js over the given folders (default: all TS roots)
// and exits 1 on any error-level violation.
// Why not `depcruise` on the command line: its exit code is the number of errors and the shell keeps
// only the low 8 bits of it, so exactly 256 (512, ...) violations would exit 0 and pass the lint.
import { existsSync } from 'node:fs';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const roots = ['src', 'workers', 'scripts', 'migrations', 'test', 'bench'];
const targets = process.argv.length > 2 ? process.argv.slice(2) : roots.filter((root) => existsSync(root));
try {
  const options = await extractDepcruiseOptions('./.dependency-cruiser.js');
  const tsConfig = extractTSConfig(options.tsConfig.fileName);
  const result = await cruise(targets, { ...options, outputType: 'err' }, {}, { tsConfig });
  process.stdout.write(result.output);
  process.exitCode = result.exitCode > 0 ? 1 : 0;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
