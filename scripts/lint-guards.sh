#!/usr/bin/env bash
# Proves the shape checks bite. In a throwaway copy of the tree (never in the real one) it plants one
# violation at a time and asserts that the check meant to catch it exits non-zero AND names the planted
# file under the expected rule (the exit code alone proves nothing while the tree still has violations).
# Then, in full mode, it asserts the un-planted copy passes those same checks.
#
#   bash scripts/lint-guards.sh                 # full mode (npm run lint:guards)
#   bash scripts/lint-guards.sh --planted-only  # only check that each plant fails
set -euo pipefail

mode=full
case "${1:-}" in
  '') ;;
  --planted-only) mode=planted-only ;;
  *) echo "usage: $0 [--planted-only]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/porchlight-lint-guards.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1 FORCE_COLOR=0

# The copy: every TypeScript root (so nothing becomes an orphan), the compiler and lint configs.
for item in src workers scripts migrations test bench tsconfig.json package.json \
  .dependency-cruiser.js eslint.config.js knip.json .jscpd.json .prettierrc.json .prettierignore; do
  if [ -e "$root/$item" ]; then cp -R "$root/$item" "$work/"; fi
done
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"

deps() { node scripts/lint-deps.mjs; }
run_eslint() { node_modules/.bin/eslint --no-warn-ignored "$@"; }

failures=0
planted=()
plant() { # plant FILE CONTENT
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$2" >"$1"
  planted+=("$1")
}
unplant() {
  if [ "${#planted[@]}" -gt 0 ]; then rm -f "${planted[@]}"; fi
  planted=()
  # Folders a plant created (src/lib, src/db/internal, src/jobs/routes) go again once empty.
  find src -type d -empty -delete
}

# expect_caught LABEL CHECK PATTERN [MUST_NOT_MATCH] -- COMMAND...
# The command must exit non-zero and its output must contain PATTERN (fixed string).
expect_caught() {
  local label="$1" check="$2" pattern="$3" reject="${4:-}"
  shift 5
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if [ "$rc" -ne 0 ] && grep -qF -- "$pattern" <<<"$out" && { [ -z "$reject" ] || ! grep -qF -- "$reject" <<<"$out"; }; then
    echo "ok    $label: $check exited $rc and reported \"$pattern\""
  else
    echo "FAIL  $label: $check exited $rc; expected non-zero with \"$pattern\"${reject:+ and without \"$reject\"}"
    grep -F -e planted <<<"$out" | head -20 || true
    failures=$((failures + 1))
  fi
  unplant
}

expect_clean() { # expect_clean LABEL CHECK -- COMMAND...
  local label="$1" check="$2"
  shift 3
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "ok    $label: $check exited 0"
  else
    echo "FAIL  $label: $check exited $rc on the un-planted copy"
    tail -n 40 <<<"$out"
    failures=$((failures + 1))
  fi
}

target='export const planted = 1;'

# (a) upward imports
plant src/invoices/planted-target.ts "$target"
plant src/lib/planted-upward.ts "import { planted } from '../invoices/planted-target.js';
export const up = planted;"
expect_caught '(a1) src/lib imports src/invoices' lint:deps 'lib-imports-lib-only: src/lib/planted-upward.ts' '' -- deps

plant src/invoices/planted-target.ts "$target"
plant src/jobs/planted-upward.ts "import { planted } from '../invoices/planted-target.js';
export const up = planted;"
expect_caught '(a2) src/jobs imports src/invoices' lint:deps 'feature-jobs: src/jobs/planted-upward.ts' '' -- deps

# (b) a cycle between two new files
plant src/lib/planted-cycle-a.ts "import { b } from './planted-cycle-b.js';
export const a = (): number => b() + 1;"
plant src/lib/planted-cycle-b.ts "import { a } from './planted-cycle-a.js';
export const b = (): number => a() - 1;"
expect_caught '(b) cycle between two new files' lint:deps 'no-circular: src/lib/planted-cycle-' '' -- deps

# (c) SQL text outside src/db
plant src/leads/planted-sql.ts "import type { Knex } from 'knex';
export async function planted(db: Knex): Promise<void> {
  await db.raw('select 1');
}"
expect_caught '(c1) db.raw() in src/leads' lint:eslint 'SQL text lives in src/db: add a typed function there' '' -- run_eslint src/leads/planted-sql.ts

plant workers/planted-sql.ts "import type { Knex } from 'knex';
export async function planted(db: Knex): Promise<number> {
  const rows = await db('leads').whereRaw('id = ?', ['x']).select<{ id: string }[]>('id');
  return rows.length;
}"
expect_caught '(c2) .whereRaw() in workers' lint:eslint 'no-restricted-syntax' '' -- run_eslint workers/planted-sql.ts

plant src/leads/planted-pg.ts "import pg from 'pg';
export const planted = pg.types;"
expect_caught '(c3) pg imported in src/leads' lint:eslint 'no-restricted-imports' '' -- run_eslint src/leads/planted-pg.ts

# (d) a route file importing another route file
plant src/jobs/routes/planted.ts "$target"
plant src/jobs/planted-routes.ts "import { planted } from './routes/planted.js';
export const routes = planted;"
expect_caught '(d) route file imports a route file' lint:deps 'no-route-to-route: src/jobs/planted-routes.ts' '' -- deps

# (e) src/db/internal imported from outside src/db (and still allowed from src/db)
plant src/db/internal/planted.ts "$target"
plant src/db/planted-uses-internal.ts "import { planted } from './internal/planted.js';
export const inDb = planted;"
plant src/leads/planted-internal.ts "import { planted } from '../db/internal/planted.js';
export const outside = planted;"
expect_caught '(e) src/leads imports src/db/internal' lint:deps 'db-internal-only-from-db: src/leads/planted-internal.ts' \
  'db-internal-only-from-db: src/db/' -- deps

if [ "$mode" = full ]; then
  expect_clean 'un-planted copy' lint:deps -- deps
  expect_clean 'un-planted copy' 'lint:eslint (src, workers)' -- run_eslint src workers
else
  echo "skip  un-planted copy passes (--planted-only)"
fi

if [ "$failures" -gt 0 ]; then
  echo "lint-guards: $failures check(s) did not behave as expected" >&2
  exit 1
fi
echo "lint-guards: all checks bite ($mode)"
