//! Pure rules and types of gradphoto: resident ID numbers, roster records, the student case
//! state machine, reject reasons, roles, school policy, the photo specification, compliance
//! measure types, the submit gate (which check results block a submission) and the
//! hash-chained audit log.
//!
//! This crate performs no IO: no files, network, database or clock reads. Callers pass `today`
//! or `now` explicitly so every rule is deterministic and testable.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod gate;
pub mod idnumber;
pub mod localized;
pub mod measures;
pub mod policy;
pub mod progress;
pub mod reasons;
pub mod redact;
pub mod role;
pub mod roster;
pub mod rules;
pub mod spec;
pub mod state;
pub mod text;

pub use localized::Localized;
