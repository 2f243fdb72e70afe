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
# refuses. A plain `go install` leaves `temporal --version` at 0.0.0-DEV, so the version is
# read from the module build info embedded in the binary instead.
temporal_ok() {
  local bin="$TOOLS_BIN/temporal"
  [[ -x $bin ]] || return 1
  if command -v go >/dev/null; then
    # Captured first: grep -q closing the pipe early would fail the check under pipefail.
    local info
    info=$(go version -m "$bin" 2>/dev/null) || return 1
    grep -qE "^[[:space:]]+mod[[:space:]]+github.com/temporalio/cli[[:space:]]+v${TEMPORAL_CLI_VERSION}[[:space:]]" <<<"$info"
  else
    grep -qaF $'mod\tgithub.com/temporalio/cli\tv'"$TEMPORAL_CLI_VERSION" "$bin"
  fi
}
if ! temporal_ok; then
  command -v go >/dev/null \
    || die "the Temporal CLI is missing ($TOOLS_BIN/temporal) and building it needs Go >= 1.23: install Go (https://go.dev/dl or apt-get install golang-go), then rerun npm run setup"
  say "building the Temporal CLI v$TEMPORAL_CLI_VERSION into .tools/bin (takes a few minutes)"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" \
    || die "go install github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION failed: Go needs access to proxy.golang.org (or GOPROXY)"
  temporal_ok || die "$TOOLS_BIN/temporal was built but is not v$TEMPORAL_CLI_VERSION"
fi

# --- Helm (renders deploy/helm/bulkhead in test/helm.test.ts) --------------------------------------
# Built from source through the Go module proxy, like the Temporal CLI (~2 minutes once); the
# version is read from the module build info, since a plain `go install` stamps no version.
HELM_VERSION=3.22.0
helm_ok() {
  local bin="$TOOLS_BIN/helm" info
  [[ -x $bin ]] || return 1
  if command -v go >/dev/null; then
    info=$(go version -m "$bin" 2>/dev/null) || return 1
    grep -qE "^[[:space:]]+mod[[:space:]]+helm.sh/helm/v3[[:space:]]+v${HELM_VERSION}[[:space:]]" <<<"$info"
  else
    grep -qaF $'mod\thelm.sh/helm/v3\tv'"$HELM_VERSION" "$bin"
  fi
}
if ! helm_ok; then
  command -v go >/dev/null \
    || die "helm is missing ($TOOLS_BIN/helm) and building it needs Go >= 1.23: install Go, then rerun npm run setup"
  say "building helm v$HELM_VERSION into .tools/bin (takes about 2 minutes)"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" go install "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" \
    || die "go install helm.sh/helm/v3/cmd/helm@v$HELM_VERSION failed: Go needs access to proxy.golang.org (or GOPROXY)"
  helm_ok || die "$TOOLS_BIN/helm was built but is not v$HELM_VERSION"
fi

# --- tsx ------------------------------------------------------------------------
# The CLI runs TypeScript through tsx; checking the file is enough and costs no Node start-up.
[[ -x node_modules/.bin/tsx ]] || die "node_modules/.bin/tsx is missing: run npm ci"
