#!/usr/bin/env sh
# CI for the VS Code extension: clean install from package-lock.json, lint, type check, unit
# tests (including the check that package.json's settings match tandem.schema.json). ~30 s.
set -eu
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "editors/vscode: npm not found; install Node.js 20 or later" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
npm run --silent lint
npm run --silent typecheck
npm test --silent
