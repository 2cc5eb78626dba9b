#!/usr/bin/env bash
# Runs every test of the project: Rust unit, property and integration tests (SQLite and a
# throwaway PostgreSQL cluster), the vision tests on real models, the portal's unit tests and
# its browser tests in Chromium against the real server.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_debian_packages
build_portal

log "rustfmt"
cargo fmt --all -- --check
log "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked

log "portal unit tests"
(cd ui/portal && npm test --silent)
log "portal browser tests"
cargo build -p gradphoto-server --locked
GRADPHOTO_BIN="$CARGO_TARGET_DIR/debug/gradphoto" bash -c 'cd ui/portal && npm run test:e2e --silent'
log "all tests passed"
