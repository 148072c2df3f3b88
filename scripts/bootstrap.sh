#!/usr/bin/env bash
# Entry point of `npm start` and `npm test` on a fresh clone: installs the node modules when they are missing
# or older than package-lock.json, then hands over to the TypeScript command. Everything else that is missing
# (Temporal binaries, MariaDB) is installed by that command.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm install with the lock, not npm ci: the lock lists only the native builds its registry served (here,
# Linux ones), and npm ci refuses a lock that lacks any platform's optional build.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap | installing node modules (npm install)"
  npm install --no-audit --no-fund
fi

command="$1"
shift
case "$command" in
  start) exec node_modules/.bin/tsx scripts/start.ts "$@" ;;
  test) exec node_modules/.bin/jest "$@" ;;
  # The project last: --selectProjects takes every word after it, so a path given before it stays a path.
  test:unit) exec node_modules/.bin/jest "$@" --selectProjects unit ;;
  *) echo "usage: scripts/bootstrap.sh start|test|test:unit [args…]" >&2; exit 2 ;;
esac
