//! Support shared by the server's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod pg;
