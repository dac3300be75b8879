#!/usr/bin/env bash
# npm run test:mutation [group ...]: Stryker over the core-rule modules, one group after another
# (groups in stryker.config.mjs), each timed. Needs PostgreSQL and Redis like the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then groups=(unit security core payments webhooks reconcile messaging deliver); fi
node --import tsx scripts/mutation-template.ts
status=0
for group in "${groups[@]}"; do
  start=$(date +%s)
  MUTATION_GROUP="$group" npx stryker run || status=1
  echo "mutation group ${group}: $(( $(date +%s) - start )) s"
done
node --import tsx scripts/mutation-template.ts --cleanup
exit $status
