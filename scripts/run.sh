#!/usr/bin/env bash
# Runs the product on its embedded defaults: the server (SQLite + local object store under
# ./data) with the student portal built in, seeded with demo data on first start, and the
# reviewer workstation connected to it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_debian_packages
build_portal
build_desk_ui
log "building gradphoto and the workstation"
# The same build as the test command's (scripts/test.sh), not just the two binaries: cargo
# resolves features for what it is asked to build, so a narrower build would compile tract,
# the server and the desk again with other features, and each command would undo the other's.
cargo build --workspace --all-targets --locked
SERVER_BIN="$CARGO_TARGET_DIR/debug/gradphoto"
DESK_BIN="$CARGO_TARGET_DIR/debug/gradphoto-desk"
LISTEN="${GRADPHOTO_LISTEN:-127.0.0.1:8080}"
URL="http://$LISTEN"

mkdir -p data
# The demo school charges a fee, paid on the sandbox's test page: no real money. Without this the
# server pays nothing by default and refuses to serve a school with a fee.
export GRADPHOTO_PAYMENT_PROVIDER="${GRADPHOTO_PAYMENT_PROVIDER:-sandbox}"
if [ ! -e data/gradphoto.db ]; then
  log "first start: seeding demo data (accounts and links are kept in data/demo.txt)"
  GRADPHOTO_PUBLIC_URL="$URL" "$SERVER_BIN" demo --out data/demo | tee data/demo.txt
fi

GRADPHOTO_LISTEN="$LISTEN" GRADPHOTO_PUBLIC_URL="$URL" "$SERVER_BIN" serve &
server=$!
trap 'kill $server 2>/dev/null; kill ${xvfb:-} 2>/dev/null; wait' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
  sleep 0.2
done

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  log "no display: the workstation runs under Xvfb :97 (screenshot: DISPLAY=:97 import -window root shot.png)"
  Xvfb :97 -screen 0 1440x900x24 >/dev/null 2>&1 &
  xvfb=$!
  export DISPLAY=:97
  sleep 1
fi
export WEBKIT_DISABLE_DMABUF_RENDERER=1
GRADPHOTO_DESK_SERVER_URL="$URL" "$DESK_BIN" &
desk=$!

cat <<INFO

  学生门户 / student portal:   $URL   (students open their personal links: see below)
  审核工作站 / workstation:     running (window "gradphoto"), server $URL

$(cat data/demo.txt)

  Ctrl+C stops everything.
INFO
wait $desk $server
