#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code (code-server), in one command:
#
#   editors/vscode/e2e/run.sh
#
# 1. installs code-server, Node 24, playwright-core and vsce into $VSCODE_E2E_HOME (default
#    ~/.cache/tandem-vscode-e2e) with install_code_server.sh next to this file, unless already
#    there (a second run takes seconds; a cold one several minutes; needs root for apt);
# 2. packages the extension (`npm run package` → dist/tandem.vsix) and installs the .vsix into a
#    fresh code-server profile;
# 3. copies examples/projects_api to a scratch folder with a tandem.toml that serves every model
#    alias from the FAKE provider replaying fake_replies.json (canned replies, labelled as such);
# 4. starts code-server on that folder and drives it with playwright-core and Debian's chromium:
#    open app/handlers.py, put the cursor in get_projects, run "Tandem: Plan this change", type the
#    request in the input box, and wait until the plan document (.tandem/tasks/<id>/plan.md) is
#    open in an editor with the status bar showing the spend (screenshot docs/img/vscode.png,
#    E2E_SCREENSHOT overrides the path); then "Draft from plan" up to the refactor preview
#    (screenshot docs/img/vscode-draft.png, E2E_DRAFT_SCREENSHOT), tick the files, apply, check
#    the handler changed and the draft's patch of README.md, rename of docs/old_notes.md and
#    delete of docs/stale.md reached the disk, save, "Review changes since HEAD" until the Problems count shows the
#    findings, "Show report" until report.md opens, and "Estimate cost" until the estimate opens;
# 5. prints the time of each phase.
#
# Environment: VSCODE_E2E_HOME (install dir), TANDEM_PYTHON (a Python with Tandem's dependencies;
# default: the repository's .venv, else python3), E2E_KEEP=1 keeps the scratch folder.
# Exit status 0 when every step above was seen; on failure a screenshot of the moment, the
# code-server log and VS Code's logs (the "Tandem" output channel included) go to .e2e-failure/.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
EXT_DIR="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$EXT_DIR/../.." && pwd)"
E2E_HOME="${VSCODE_E2E_HOME:-$HOME/.cache/tandem-vscode-e2e}"
SCREENSHOT="${E2E_SCREENSHOT:-$REPO/docs/img/vscode.png}"
DRAFT_SCREENSHOT="${E2E_DRAFT_SCREENSHOT:-$(dirname "$SCREENSHOT")/vscode-draft.png}"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
log() { echo "e2e: $*"; }
START=$(now)

if [ -n "${TANDEM_PYTHON:-}" ]; then
  PY="$TANDEM_PYTHON"
elif [ -x "$REPO/.venv/bin/python" ]; then
  PY="$REPO/.venv/bin/python"
else
  PY="$(command -v python3)"
fi
"$PY" -c "import pygls, tree_sitter" 2>/dev/null ||
  { echo "e2e: $PY lacks Tandem's dependencies; set TANDEM_PYTHON" >&2; exit 1; }

t=$(now)
"$HERE/install_code_server.sh" "$E2E_HOME" | sed 's/^/  /'
# shellcheck disable=SC1091
. "$E2E_HOME/env.sh"
log "tools ready in $(since "$t") s"

t=$(now)
(cd "$EXT_DIR" && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } &&
  npm run --silent package >/dev/null)
log "packaged $EXT_DIR/dist/tandem.vsix in $(since "$t") s"

SCRATCH="$(mktemp -d /tmp/tandem-vscode-e2e.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "${E2E_KEEP:-0}" = 1 ]; then log "kept $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT

# The workspace: the example with every alias on the FAKE provider.
WS="$SCRATCH/projects_api"
cp -r "$REPO/examples/projects_api" "$WS"
rm -rf "$WS/.tandem"
find "$WS" -name __pycache__ -prune -exec rm -rf {} +
cat >"$WS/tandem.toml" <<'EOF'
# End-to-end test only: every alias is the FAKE provider replaying canned replies, priced per
# million tokens like the default strong and cheap models so the status bar shows real amounts.
[models.strong]
provider = "fake"
model = "fake-strong"
fake_replies = "fake_replies.json"
price = { input_per_mtok = 3, output_per_mtok = 15 }

[models.cheap]
provider = "fake"
model = "fake-cheap"
fake_replies = "fake_replies.json"
price = { input_per_mtok = 1, output_per_mtok = 5 }
EOF

# The draft also carries the file-level kinds a real change needs (issue 16): a patch of a file
# Tandem does not slice (README.md), a rename and a delete, so the refactor preview must show
# and apply them too; the plan scopes those files.
mkdir -p "$WS/docs"
printf '# Notes\n\nWhy the archived filter defaults to active projects.\n' >"$WS/docs/old_notes.md"
printf '# Stale\n\nTo be removed by the draft.\n' >"$WS/docs/stale.md"
"$PY" - "$WS/fake_replies.json" <<'PYEOF'
import json, sys
path = sys.argv[1]
replies = json.load(open(path, encoding="utf-8"))
replies["plan"][0]["scope"]["files"] += [
    "README.md", "docs/old_notes.md", "docs/notes.md", "docs/stale.md"
]
replies["draft"][0]["edits"] += [
    {"kind": "patch", "target": "README.md",
     "old": "A tiny web API over SQLite (standard library only).",
     "new": "A tiny web API over SQLite (standard library only), patched by the e2e draft.",
     "reason": "e2e: a patch of a file Tandem does not slice"},
    {"kind": "rename_file", "target": "docs/old_notes.md", "old": "", "new": "docs/notes.md",
     "reason": "e2e: a rename"},
    {"kind": "delete_file", "target": "docs/stale.md", "old": "", "new": "",
     "reason": "e2e: a delete"},
]
json.dump(replies, open(path, "w", encoding="utf-8"), indent=1)
PYEOF

# A git repository, so "Review changes since HEAD" has a HEAD to compare with.
git -C "$WS" init -q
git -C "$WS" add -A
git -C "$WS" -c user.name=e2e -c user.email=e2e@example.invalid commit -qm "projects_api example"

# `tandem` for the extension: this checkout's server on the chosen Python.
cat >"$SCRATCH/tandem" <<EOF
#!/bin/sh
PYTHONPATH="$REPO/server\${PYTHONPATH:+:\$PYTHONPATH}" exec "$PY" -m tandem "\$@"
EOF
chmod +x "$SCRATCH/tandem"

# A fresh code-server profile with the .vsix installed.
PROFILE="$SCRATCH/profile"
mkdir -p "$PROFILE/data/User" "$PROFILE/data/Machine" "$PROFILE/extensions"
# tandem.server.path is machine-scoped: code-server (like any remote window) reads it from the
# Machine settings, not the browser's User settings.
cat >"$PROFILE/data/Machine/settings.json" <<EOF
{
  "tandem.server.path": "$SCRATCH/tandem"
}
EOF
cat >"$PROFILE/data/User/settings.json" <<EOF
{
  "tandem.statusBar.pollSeconds": 1,
  "tandem.ratingPrompt.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "chat.disableAIFeatures": true,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "editor.minimap.enabled": false,
  "window.zoomLevel": 0
}
EOF
CS_ARGS=(--user-data-dir "$PROFILE/data" --extensions-dir "$PROFILE/extensions")
t=$(now)
code-server "${CS_ARGS[@]}" --install-extension "$EXT_DIR/dist/tandem.vsix" | sed 's/^/  /'
log "installed the .vsix in $(since "$t") s"

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
t=$(now)
code-server "${CS_ARGS[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  "$WS" >"$SCRATCH/code-server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null ||
  { tail -n 30 "$SCRATCH/code-server.log" >&2; echo "e2e: code-server did not start" >&2; exit 1; }
log "code-server up on port $PORT in $(since "$t") s"

mkdir -p "$(dirname "$SCREENSHOT")"
t=$(now)
status=0
E2E_URL="http://127.0.0.1:$PORT/?folder=$WS" E2E_WORKSPACE="$WS" E2E_SCREENSHOT="$SCREENSHOT" E2E_DRAFT_SCREENSHOT="$DRAFT_SCREENSHOT" \
  E2E_BROWSER_PROFILE="$SCRATCH/chromium" E2E_FAILURE_SHOT="$SCRATCH/failure.png" \
  node "$HERE/drive.cjs" || status=$?
log "drove VS Code in $(since "$t") s"
if [ "$status" -ne 0 ]; then
  mkdir -p "$REPO/.e2e-failure"
  cp "$SCRATCH/code-server.log" "$REPO/.e2e-failure/" 2>/dev/null || true
  cp "$SCRATCH/failure.png" "$REPO/.e2e-failure/" 2>/dev/null || true
  cp -r "$PROFILE/data/logs" "$REPO/.e2e-failure/vscode-logs" 2>/dev/null || true
  log "FAILED; code-server log and a screenshot are in $REPO/.e2e-failure/"
  exit "$status"
fi
log "passed in $(since "$START") s in all; screenshot $SCREENSHOT"
