# Shared helpers for the project's scripts. Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build products live outside the clone so that a second clone (or CI) reuses them.
CACHE_DIR="${GRADPHOTO_CACHE:-/var/cache/gradphoto}"
mkdir -p "$CACHE_DIR" 2>/dev/null || CACHE_DIR="$HOME/.cache/gradphoto"
mkdir -p "$CACHE_DIR"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE_DIR/target}"
export npm_config_cache="${npm_config_cache:-$CACHE_DIR/npm}"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

# Debian packages the product, its tests and its desktop build need.
DEB_PACKAGES=(
  build-essential pkg-config curl wget file libssl-dev libdbus-1-dev sqlite3
  python3-venv
  postgresql
  chromium fonts-noto-cjk fonts-dejavu-core
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver imagemagick poppler-utils poppler-data zbar-tools
  gnome-keyring dbus dbus-x11 libsecret-tools
)

ensure_debian_packages() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Installs a UI package's node modules when its lockfile changed since the last install.
ensure_node_modules() {
  local dir="$1"
  local stamp="$dir/node_modules/.lock-hash"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

build_desk_ui() {
  ensure_node_modules "$ROOT/ui/desk"
  log "building the workstation UI"
  (cd "$ROOT/ui/desk" && npm run build --silent)
}

# tauri-driver drives the real workstation in end-to-end tests; it shares no dependencies with
# the workspace, so it is installed once into the cache.
TAURI_DRIVER="$CACHE_DIR/cargo-bin/bin/tauri-driver"
ensure_tauri_driver() {
  if [ ! -x "$TAURI_DRIVER" ]; then
    log "installing tauri-driver into $CACHE_DIR/cargo-bin"
    env -u CARGO_TARGET_DIR cargo install tauri-driver --locked --root "$CACHE_DIR/cargo-bin"
  fi
}

# Runs a command in a private D-Bus session with an unlocked keyring, as on a desktop.
with_keyring() {
  dbus-run-session -- bash -c 'echo -n gradphoto-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"' bash "$@"
}

build_portal() {
  ensure_node_modules "$ROOT/ui/portal"
  log "building the student portal"
  (cd "$ROOT/ui/portal" && npm run build --silent)
}

# The S3 object-store tests run against moto's S3-compatible server on loopback. It shares
# nothing with the product, so it is installed once into its own virtual environment; the
# stamp records the pinned version so that changing the pin reinstalls it.
MOTO_VERSION="5.2.5"
ensure_s3_test_server() {
  local venv="$CACHE_DIR/venv-moto"
  local stamp="$venv/.moto-version"
  if [ ! -x "$venv/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$MOTO_VERSION" ]; then
    log "installing moto[server]==$MOTO_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    echo "$MOTO_VERSION" >"$stamp"
  fi
  export GRADPHOTO_TEST_MOTO="$venv/bin/moto_server"
}
