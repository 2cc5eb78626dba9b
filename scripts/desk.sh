#!/usr/bin/env bash
# The reviewer workstation (Tauri): build, test, end-to-end test, run.
#
#   bash scripts/desk.sh build          UI bundle + debug app binary (target/debug/gradphoto-desk)
#   bash scripts/desk.sh test           Rust tests of desk-core (sync engine against a real server,
#                                       keyring in a private D-Bus session) + UI unit tests
#   bash scripts/desk.sh e2e            the real app under Xvfb, driven by tauri-driver +
#                                       WebKitWebDriver against a real server with demo data
#   bash scripts/desk.sh run [URL]      start the workstation (server URL prefilled, default
#                                       http://127.0.0.1:8080); under Xvfb when there is no display
#   bash scripts/desk.sh bundle [release] [appimage]   .deb via tauri build (debug unless `release`)
#   bash scripts/desk.sh bench          performance figures (see docs/benchmarks.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

DESK_DEB_PACKAGES=(
  build-essential pkg-config curl wget file libssl-dev libdbus-1-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver imagemagick fonts-noto-cjk
  gnome-keyring dbus dbus-x11 libsecret-tools sqlite3
)
DRIVER_ROOT="$CACHE_DIR/cargo-bin"
TAURI_DRIVER="$DRIVER_ROOT/bin/tauri-driver"
APP_BIN="$CARGO_TARGET_DIR/debug/gradphoto-desk"
SERVER_BIN="$CARGO_TARGET_DIR/debug/gradphoto"

ensure_desk_packages() {
  local missing=()
  for p in "${DESK_DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages for the desktop app: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_tauri_driver() {
  if [ ! -x "$TAURI_DRIVER" ]; then
    log "installing tauri-driver into $DRIVER_ROOT"
    # Its own target dir: the driver shares no dependencies with the workspace.
    env -u CARGO_TARGET_DIR cargo install tauri-driver --locked --root "$DRIVER_ROOT"
  fi
}

build_desk_ui() {
  ensure_node_modules "$ROOT/ui/desk"
  log "building the workstation UI"
  (cd ui/desk && npm run build --silent)
}

build_desk() {
  ensure_desk_packages
  build_desk_ui
  log "building gradphoto-desk (debug)"
  # custom-protocol: serve the bundled UI rather than the Vite dev server.
  cargo build -p gradphoto-desk --features custom-protocol --locked
}

# Runs a command inside a private D-Bus session with an unlocked login keyring, so the
# Secret Service is there as on a desktop.
with_keyring() {
  dbus-run-session -- bash -c 'echo -n gradphoto-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"' bash "$@"
}

cmd="${1:-build}"
shift || true
case "$cmd" in
  build)
    build_desk
    ;;
  test)
    ensure_desk_packages
    ensure_node_modules "$ROOT/ui/desk"
    log "workstation UI: type check and unit tests"
    (cd ui/desk && npm run check --silent && npm test --silent)
    log "desk-core and the Tauri shell: cargo test"
    GRADPHOTO_TEST_KEYRING=1 with_keyring cargo test -p gradphoto-desk-core -p gradphoto-desk --locked
    ;;
  e2e)
    build_desk
    ensure_tauri_driver
    log "building gradphoto (server)"
    cargo build -p gradphoto-server --locked
    ensure_node_modules "$ROOT/tests/desk-e2e"
    log "end-to-end tests of the workstation (Xvfb + tauri-driver)"
    GRADPHOTO_DESK_APP="$APP_BIN" GRADPHOTO_BIN="$SERVER_BIN" TAURI_DRIVER="$TAURI_DRIVER" \
      with_keyring xvfb-run -a -s "-screen 0 1440x900x24" node tests/desk-e2e/run.mjs "$@"
    ;;
  run)
    build_desk
    url="${1:-http://127.0.0.1:8080}"
    export GRADPHOTO_DESK_SERVER_URL="$url"
    export WEBKIT_DISABLE_DMABUF_RENDERER=1
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      log "no display: starting the workstation under Xvfb (:97); screenshot with: DISPLAY=:97 import -window root shot.png"
      Xvfb :97 -screen 0 1440x900x24 >/dev/null 2>&1 &
      export DISPLAY=:97
      sleep 1
    fi
    log "starting the workstation (server $url)"
    exec "$APP_BIN"
    ;;
  bundle)
    ensure_desk_packages
    ensure_node_modules "$ROOT/ui/desk"
    # The CLI finds src-tauri/tauri.conf.json from the repository root. `--debug` reuses the
    # debug build (minutes instead of a full release build on a small machine); pass
    # `release` for the shipping package. The AppImage bundler downloads its tools from the
    # internet at build time, so it is only attempted when asked for (`appimage`).
    mode=(--debug)
    bundles=deb
    for a in "$@"; do
      case "$a" in
        release) mode=() ;;
        appimage) bundles=deb,appimage ;;
      esac
    done
    log "tauri build ${mode[*]} --bundles $bundles"
    ui/desk/node_modules/.bin/tauri build "${mode[@]}" --bundles "$bundles"
    log "packages: $(ls "$CARGO_TARGET_DIR"/*/bundle/*/*.{deb,AppImage} 2>/dev/null | tr '\n' ' ')"
    ;;
  bench)
    ensure_desk_packages
    build_desk_ui
    log "desk benchmarks"
    # The dev profile (models and image code at opt-level 3, see Cargo.toml) reuses the debug
    # build; the other figures are conservative.
    cargo bench -p gradphoto-desk-core --bench desk --profile dev --locked
    ;;
  *)
    echo "usage: bash scripts/desk.sh build|test|e2e|run [URL]|bundle|bench" >&2
    exit 2
    ;;
esac
