#!/usr/bin/env bash
# Set up everything Parallel Run's build and tests need on a fresh Debian machine
# (offline: only apt and the npm registry). Idempotent and fast when all is present.
#   SKIP_APT=1      do not touch apt
#   SKIP_SLURM=1    do not install the Slurm packages
#   CS_VERSION      code-server version (default 4.100.3 = VS Code 1.100.3, Node 20)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CS_VERSION="${CS_VERSION:-4.100.3}"
CS_DIR="$ROOT/.vscode-test/code-server"
log() { printf '[install %3ss] %s\n' "$SECONDS" "$*" >&2; }

node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" = 20 ] || { log "Node 20 is required (found $(node -v)); code-server $CS_VERSION runs on Node 20 only"; exit 1; }

# ---- apt: browser for e2e, build deps of code-server's native modules, rg, GNU parallel (bench), Slurm (tests); Jupyter (executed notebooks); numpy+scipy+joblib (experiments bench); matplotlib (a kernel runs `%matplotlib inline`; apt installs it as a recommendation only where recommendations are on)
APT_PKGS=(build-essential pkg-config libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev ripgrep chromium parallel procps
  python3-nbformat python3-nbclient python3-ipykernel python3-matplotlib python3-scipy python3-joblib)
[ "${SKIP_SLURM:-0}" = 1 ] || APT_PKGS+=(slurmctld slurmd slurm-client munge)
if [ "${SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
    $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
  else
    log "apt: all packages present"
  fi
fi

# ---- project dependencies: npm ci runs in the background while code-server installs (independent
# folders; npm's cache is safe for concurrent use); waited for at the end
npm_ci_pid=
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci (in the background)"
  npm_ci_log="$(mktemp)"
  npm ci --no-audit --no-fund >"$npm_ci_log" 2>&1 &
  npm_ci_pid=$!
else
  log "node_modules up to date"
fi

# ---- code-server, pinned, in a gitignored folder (never in package.json: keeps npm ci light)
if [ -f "$CS_DIR/node_modules/code-server/package.json" ] && \
   [ "$(node -p "require('$CS_DIR/node_modules/code-server/package.json').version")" = "$CS_VERSION" ] && \
   [ -f "$CS_DIR/node_modules/code-server/lib/vscode/node_modules/node-pty/build/Release/pty.node" ]; then
  log "code-server $CS_VERSION already installed"
else
  log "installing code-server $CS_VERSION into $CS_DIR"
  # trap: @vscode/ripgrep's postinstall downloads rg from GitHub; pre-seed its cache with Debian's rg 13.0.0
  rg_cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
  rg_asset="ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  mkdir -p "$rg_cache"
  [ -s "$rg_cache/$rg_asset" ] || tar czf "$rg_cache/$rg_asset" -C "$(dirname "$(command -v rg)")" rg
  mkdir -p "$CS_DIR"
  [ -f "$CS_DIR/package.json" ] || echo '{"name":"code-server-host","private":true}' > "$CS_DIR/package.json"
  # traps: postinstall refuses root without unsafe_perm; node-pty runs `npx node-gyp` which must not prompt
  (cd "$CS_DIR" && npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --no-audit --no-fund --no-save "code-server@${CS_VERSION}")
  test -f "$CS_DIR/node_modules/code-server/lib/vscode/node_modules/node-pty/build/Release/pty.node"
fi

# ---- project dependencies (started above, alongside the code-server install)
if [ -n "$npm_ci_pid" ]; then
  if wait "$npm_ci_pid"; then
    log "npm ci done"
  else
    cat "$npm_ci_log" >&2
    log "npm ci failed (output above)"
    exit 1
  fi
fi
log "done"
