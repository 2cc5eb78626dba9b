#!/usr/bin/env bash
# Runs every test of the project: Rust unit, property and integration tests (SQLite and a
# throwaway PostgreSQL cluster, the real models), the workstation's sync engine against a real
# server, the UIs' unit tests, the portal in Chromium and the workstation under Xvfb, both
# against the real server.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_debian_packages
build_portal
build_desk_ui

log "rustfmt"
cargo fmt --all -- --check
log "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# One build of every target with the features the tests use, so the binaries the end-to-end
# tests drive are the ones just tested and nothing is compiled twice.
log "cargo build (all targets)"
cargo build --workspace --all-targets --locked
log "cargo test"
ensure_s3_test_server
GRADPHOTO_TEST_KEYRING=1 with_keyring cargo test --workspace --locked

SERVER_BIN="$CARGO_TARGET_DIR/debug/gradphoto"
DESK_BIN="$CARGO_TARGET_DIR/debug/gradphoto-desk"

log "portal: type check and unit tests"
(cd ui/portal && npm run check --silent && npm test --silent)
log "portal: browser tests (Chromium, real server)"
(cd ui/portal && GRADPHOTO_BIN="$SERVER_BIN" npm run test:e2e --silent)

log "workstation: type check and unit tests"
(cd ui/desk && npm run check --silent && npm test --silent)
log "workstation: end-to-end tests (Xvfb, tauri-driver, real server)"
ensure_tauri_driver
ensure_node_modules "$ROOT/tests/desk-e2e"
GRADPHOTO_DESK_APP="$DESK_BIN" GRADPHOTO_BIN="$SERVER_BIN" TAURI_DRIVER="$TAURI_DRIVER" \
  with_keyring xvfb-run -a -s "-screen 0 1440x900x24" node tests/desk-e2e/run.mjs

log "all tests passed"
