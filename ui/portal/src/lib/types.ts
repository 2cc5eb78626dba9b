// The wire types of the student API, generated from crates/api and the domain types it embeds
// into ./bindings: `cargo test -p gradphoto-api` fails when a file there is stale, and
// `UPDATE_BINDINGS=1 cargo test -p gradphoto-api bindings` rewrites them. Re-exported here so
// imports stay short; nothing here is written by hand.
export type * from "./bindings";
