#!/usr/bin/env bash
# Runs the product on its embedded defaults: the server (SQLite + local object store under
# ./data) with the student portal built in, seeded with demo data on first start.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_debian_packages
build_portal
log "building gradphoto"
cargo build -p gradphoto-server --locked
BIN="$CARGO_TARGET_DIR/debug/gradphoto"

if [ ! -e data/gradphoto.db ]; then
  log "first start: seeding demo data"
  "$BIN" demo
fi
exec "$BIN" serve
