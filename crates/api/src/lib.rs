//! Request and response types of the gradphoto HTTP API, shared by the server, the typed
//! client, the desktop app and the portal. Domain enums (case state, reject reasons, roles,
//! check reports) are serialized as the domain defines them.
//!
//! The student portal's TypeScript types are generated from these (see `bindings`, a test).
//! Integers (`i64`, `u64`) are `number` there: cents, counts, sizes and millisecond times stay
//! far below 2^53.

pub mod admin;
pub mod audit;
#[cfg(test)]
mod bindings;
pub mod bounds;
pub mod common;
pub mod error;
pub mod quality;
pub mod review;
pub mod student;
pub mod sync;
