//! What each request does to the data, written once: the HTTP handlers read and answer
//! requests and call these; the demo seeds its cases through the same functions, so demo data
//! carries the same rows and audit trail as real use. SQL stays in `store`; HTTP stays in
//! `http`.

pub mod admin;
pub mod review;
pub mod stats;
pub mod stats_days;
pub mod student;
