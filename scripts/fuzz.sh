#!/usr/bin/env bash
# Runs the fuzz harnesses (docs/fuzzing.md) in release mode, GRADPHOTO_FUZZ_CASES cases each
# (default 1,000,000), and prints how long each took. `bash scripts/fuzz.sh [target…]` runs only
# the named targets (fuzz_roster, fuzz_idnumber, fuzz_bodies, fuzz_sync, fuzz_decode,
# fuzz_cache, fuzz_multipart). GRADPHOTO_FUZZ_SEED picks another random seed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

export GRADPHOTO_FUZZ_CASES="${GRADPHOTO_FUZZ_CASES:-1000000}"
TARGETS=(
  "gradphoto-domain fuzz_roster"
  "gradphoto-domain fuzz_idnumber"
  "gradphoto-api fuzz_bodies"
  "gradphoto-api fuzz_sync"
  "gradphoto-vision fuzz_decode"
  "gradphoto-desk-core fuzz_cache"
  "gradphoto-server fuzz_multipart"
)

selected=()
for t in "${TARGETS[@]}"; do
  read -r package target <<<"$t"
  if [ "$#" -eq 0 ] || [[ " $* " == *" $target "* ]]; then
    selected+=("$package $target")
  fi
done
[ "${#selected[@]}" -gt 0 ] || { echo "no such target: $*" >&2; exit 2; }

log "building the harnesses (release)"
for t in "${selected[@]}"; do
  read -r package target <<<"$t"
  cargo test --release --locked -p "$package" --test "$target" --no-run
done

summary=()
for t in "${selected[@]}"; do
  read -r package target <<<"$t"
  log "$target ($package): $GRADPHOTO_FUZZ_CASES cases"
  start=$(date +%s)
  cargo test --release --locked -p "$package" --test "$target" -- --nocapture
  summary+=("$target: $(($(date +%s) - start)) s")
done
log "done"
printf '  %s\n' "${summary[@]}"
