// `npm run bench [-- bench/customers.ts ...]`: runs the named bench files, or every bench/*.ts but this one.
// Each file is run in its own process, one after another, so their timings do not disturb each other.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const named = process.argv.slice(2);
const files = named.length
  ? named.map((f) => path.resolve(f))
  : readdirSync(here)
      .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
      .sort()
      .map((f) => path.join(here, f));

let failed = 0;
for (const file of files) {
  process.stdout.write(`\n=== ${path.relative(process.cwd(), file)} ===\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`${path.basename(file)} exited with ${result.status ?? result.signal}\n`);
  }
}
process.exit(failed ? 1 : 0);
