//! The reviewer workstation without its window: the signed-in session (token in the OS
//! keyring), the local SQLite cache, the sync engine (claims, leases, outbox, conflicts) and
//! the local hints. `src-tauri` is a thin shell of commands over [`Workstation`].

pub mod account;
pub mod admin;
pub mod audit;
pub mod cache;
pub mod codes;
pub mod error;
pub mod grid;
pub mod hints;
pub mod present;
pub mod progress;
pub mod quality;
pub mod saved;
pub mod session;
pub mod stats;
pub mod sync;
pub mod view;
pub mod workstation;

pub use error::{DeskError, DeskResult};
pub use workstation::Workstation;

#[cfg(test)]
mod tests {
    /// The parts (account, sync engine, hinter, cache, views) never import the façade: the
    /// workstation depends on them, never the other way round.
    #[test]
    fn parts_never_reach_back_into_the_workstation() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        for entry in std::fs::read_dir(&src).expect("src is readable") {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || name == "lib.rs" || name == "workstation.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source is readable");
            for line in text.lines().filter(|l| l.trim_start().starts_with("use ")) {
                assert!(
                    !line.contains("workstation") && !line.contains("Workstation"),
                    "{name} imports the façade: {line}"
                );
            }
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} modules were read");
    }
}
