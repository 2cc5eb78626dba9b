//! The reviewer workstation without its window: the signed-in session (token in the OS
//! keyring), the local SQLite cache, the sync engine (claims, leases, outbox, conflicts) and
//! the local hints. `src-tauri` is a thin shell of commands over [`Workstation`].

pub mod cache;
pub mod error;
pub mod hints;
pub mod present;
pub mod session;
pub mod sync;
pub mod view;
pub mod workstation;

pub use error::{DeskError, DeskResult};
pub use workstation::Workstation;
