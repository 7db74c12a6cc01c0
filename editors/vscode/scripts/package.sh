#!/usr/bin/env sh
# Builds dist/tandem.vsix: bundle, then `vsce package`. vsce 4 needs Node 22 or later: it is
# taken from PATH when present (the code-server installer puts one there), else run with npx.
set -eu
cd "$(dirname "$0")/.."
node scripts/bundle.mjs --minify
if command -v vsce >/dev/null 2>&1; then
  vsce package --skip-license --allow-missing-repository --no-dependencies --out dist/tandem.vsix
else
  npx --yes @vscode/vsce@4.1.0 package --skip-license --allow-missing-repository --no-dependencies --out dist/tandem.vsix
fi
