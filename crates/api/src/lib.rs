//! Request and response types of the gradphoto HTTP API, shared by the server, the typed
//! client, the desktop app and the portal. Domain enums (case state, reject reasons, roles,
//! check reports) are serialized as the domain defines them.

pub mod admin;
pub mod audit;
pub mod common;
pub mod error;
pub mod review;
pub mod student;
pub mod sync;
