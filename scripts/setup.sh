#!/usr/bin/env bash
# Brings a fresh clone to a runnable state. Idempotent and quick when nothing is missing,
# because `npm test` and `npm run demo` call it every time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TEMPORAL_CLI_VERSION=1.5.1
TOOLS_BIN="$PWD/.tools/bin"

say() { echo "setup: $*"; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

# --- npm dependencies -------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install, so a lock newer than it
# means someone changed dependencies since the last install.
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json ]] \
  || [[ -f package-lock.json && package-lock.json -nt node_modules/.package-lock.json ]]; then
  command -v npm >/dev/null || die "npm is missing: install Node.js >= 20 (https://nodejs.org or apt-get install nodejs npm)"
  if [[ -f package-lock.json ]]; then
    say "installing npm dependencies (npm ci)"
    # The lock lists every platform's optional packages (@swc/core-*), so npm ci takes it as is.
    npm ci --no-audit --no-fund --loglevel=error \
      || die "npm ci failed (see above): the npm registry must be reachable, and package-lock.json in sync with package.json"
  else
    say "installing npm dependencies (npm install)"
    npm install --no-audit --no-fund --loglevel=error
  fi
  # esbuild and @swc ship their binaries as optional dependencies, so they work even when
  # npm declines to run install scripts; make sure that stayed true.
  npx --no-install esbuild --version >/dev/null \
    || die "esbuild does not run after npm install: check that optional dependencies were installed (npm ci --include=optional)"
  npx --no-install tsx --version >/dev/null || die "tsx does not run after npm install"
fi

# --- Debian packages ----------------------------------------------------------
# command -> package that provides it
declare -A DEB_FOR=(
  [bwrap]=bubblewrap
  [socat]=socat
  [rg]=ripgrep
  # local sandbox driver: drops to the sandbox's uid, sets rlimits, makes its user namespace
  [setpriv]=util-linux
  [prlimit]=util-linux
  [unshare]=util-linux
  [prometheus]=prometheus
  [promtool]=prometheus
  # Live intake (issue 11): the serve e2e test routes a real alert through a real Alertmanager.
  [prometheus-alertmanager]=prometheus-alertmanager
)
missing=()
for cmd in "${!DEB_FOR[@]}"; do
  command -v "$cmd" >/dev/null || missing+=("${DEB_FOR[$cmd]}")
done
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  command -v apt-get >/dev/null \
    || die "missing packages ${missing[*]} and apt-get is not available: install them with your package manager"
  SUDO=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}: run as root: apt-get install -y ${missing[*]}"
    SUDO=(sudo)
  fi
  say "installing Debian packages: ${missing[*]}"
  apt_install() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; }
  # A fresh image often has no package lists; update only then, since it is slow.
  if ! apt_install; then
    say "apt-get install failed; refreshing package lists and retrying"
    "${SUDO[@]}" apt-get update -q || die "apt-get update failed: cannot install ${missing[*]}"
    apt_install || die "apt-get install ${missing[*]} failed"
  fi
  for cmd in "${!DEB_FOR[@]}"; do
    command -v "$cmd" >/dev/null || die "$cmd still missing after installing ${DEB_FOR[$cmd]}"
  done
fi

# --- Temporal CLI (dev server) ------------------------------------------------
# Built from source: later tags than 1.5.1 carry a `replace` directive that `go install`
# refuses. Helm is built the same way.
# go_tool NAME MODULE PACKAGE VERSION: NAME in .tools/bin, built from PACKAGE@vVERSION unless the
# binary there already is MODULE vVERSION. A plain `go install` stamps no version, so it is read
# from the module build info embedded in the binary.
go_tool_ok() {
  local bin="$TOOLS_BIN/$1" module=$2 version=$3 info
  [[ -x $bin ]] || return 1
  if command -v go >/dev/null; then
    # Captured first: grep -q closing the pipe early would fail the check under pipefail.
    info=$(go version -m "$bin" 2>/dev/null) || return 1
    grep -qE "^[[:space:]]+mod[[:space:]]+${module}[[:space:]]+v${version}[[:space:]]" <<<"$info"
  else
    grep -qaF $'mod\t'"$module"$'\tv'"$version" "$bin"
  fi
}
go_tool() {
  local name=$1 module=$2 package=$3 version=$4
  go_tool_ok "$name" "$module" "$version" && return 0
  command -v go >/dev/null \
    || die "$name is missing ($TOOLS_BIN/$name) and building it needs Go >= 1.23: install Go (https://go.dev/dl or apt-get install golang-go), then rerun npm run setup"
  say "building $name v$version into .tools/bin (takes a few minutes)"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" go install "$package@v$version" \
    || die "go install $package@v$version failed: Go needs access to proxy.golang.org (or GOPROXY)"
  go_tool_ok "$name" "$module" "$version" || die "$TOOLS_BIN/$name was built but is not v$version"
}
go_tool temporal github.com/temporalio/cli github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION"

# Helm renders deploy/helm/bulkhead in test/helm.test.ts.
HELM_VERSION=3.22.0
go_tool helm helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm "$HELM_VERSION"

# --- tsx ------------------------------------------------------------------------
# The CLI runs TypeScript through tsx; checking the file is enough and costs no Node start-up.
[[ -x node_modules/.bin/tsx ]] || die "node_modules/.bin/tsx is missing: run npm ci"
