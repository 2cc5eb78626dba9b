//! Shared helpers of the server's integration stories and of the review benchmark (which
//! includes this module with `#[path]`): a real server on a free loopback port over SQLite or
//! a throwaway PostgreSQL, fixtures, the student's steps, test images and the analyzer.
#![allow(dead_code)]

pub mod analyzer;
pub mod fixture;
pub mod flows;
/// The throwaway PostgreSQL harness shared with the other integration tests.
#[path = "../common/pg.rs"]
pub mod pg;
pub mod photos;
pub mod progress;
pub mod seed;
pub mod server;

pub use analyzer::analyzer;

/// Declares each story twice, on SQLite and on a throwaway PostgreSQL: `stories!(a, b);` with
/// `async fn a(db: Db)` in the including file.
#[allow(unused_macros)]
macro_rules! stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Postgres).await;
                }
            )*
        }
    };
}
pub use server::{Db, TestServer};
